package docker

import (
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// manifests reads every document of the kustomization's resources, by
// kind/name.
func manifests(t *testing.T, dir string) (kust map[string]any, objs map[string]map[string]any) {
	t.Helper()
	kust = parseYAML(t, filepath.Join(dir, "kustomization.yaml"))
	objs = map[string]map[string]any{}
	resources := strs(kust["resources"])
	for _, r := range resources {
		dec := yaml.NewDecoder(strings.NewReader(read(t, filepath.Join(dir, r))))
		for {
			var doc map[string]any
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", r, err)
			}
			if doc == nil {
				continue
			}
			key := str(doc["kind"]) + "/" + str(at(doc, "metadata", "name"))
			if _, dup := objs[key]; dup {
				t.Errorf("%s is defined twice", key)
			}
			objs[key] = doc
		}
	}
	// Every manifest in the directory is applied: none forgotten.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if n := e.Name(); (strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) && n != "kustomization.yaml" && !slices.Contains(resources, n) {
			t.Errorf("%s is not in kustomization.yaml's resources", n)
		}
	}
	for _, g := range asList(kust["configMapGenerator"]) {
		for _, f := range strs(at(g, "files")) {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("configMapGenerator %s: %v", str(at(g, "name")), err)
			}
		}
	}
	return kust, objs
}

func container(t *testing.T, deploy map[string]any) map[string]any {
	t.Helper()
	cs := asList(at(deploy, "spec", "template", "spec", "containers"))
	if len(cs) != 1 {
		t.Fatalf("%s has %d containers, want 1", str(at(deploy, "metadata", "name")), len(cs))
	}
	return cs[0].(map[string]any)
}

// podEnv reads a container's env: plain values as they are, secret
// references as the sample of the setting (the recipe's value stays
// secret), and the names of the Secrets referenced.
func podEnv(t *testing.T, where string, c map[string]any, reads func(string) bool) (env map[string]string, secrets []string) {
	t.Helper()
	env, secrets, _ = podEnvKeys(t, where, c, reads)
	return env, secrets
}

// podEnvKeys is podEnv that also returns the Secret keys referenced.
func podEnvKeys(t *testing.T, where string, c map[string]any, reads func(string) bool) (env map[string]string, secrets, keys []string) {
	t.Helper()
	env = map[string]string{}
	for _, e := range asList(c["env"]) {
		name := str(at(e, "name"))
		if !reads(name) {
			t.Errorf("%s: %s is read by no one (misspelt?)", where, name)
		}
		if ref := at(e, "valueFrom", "secretKeyRef"); ref != nil {
			secrets = append(secrets, str(at(ref, "name")))
			keys = append(keys, str(at(ref, "key")))
			v, ok := sampleSecrets[name]
			if !ok {
				t.Errorf("%s: no sample value for %s", where, name)
			}
			env[name] = v
			continue
		}
		if at(e, "valueFrom", "fieldRef") != nil {
			env[name] = "pod-name"
			continue
		}
		v := str(at(e, "value"))
		checkNoPlainSecret(t, where, name, v)
		env[name] = v
	}
	return env, secrets, keys
}

// documentedSecretKeys are the keys of spm-secrets that kustomization.yaml
// tells the operator to create (kubectl create secret … --from-literal=KEY=).
func documentedSecretKeys(t *testing.T, dir string) []string {
	t.Helper()
	var keys []string
	for _, m := range regexp.MustCompile(`--from-(?:literal|file)=([A-Za-z0-9._-]+)=`).FindAllStringSubmatch(read(t, filepath.Join(dir, "kustomization.yaml")), -1) {
		keys = append(keys, m[1])
	}
	if len(keys) == 0 {
		t.Fatal("kustomization.yaml does not say how to create spm-secrets")
	}
	return keys
}

// atoi reads a whole number, or -1.
func atoi(v any) int {
	n, err := strconv.Atoi(str(v))
	if err != nil {
		return -1
	}
	return n
}

func namedPort(c map[string]any, name string) string {
	for _, p := range asList(c["ports"]) {
		if str(at(p, "name")) == name {
			return str(at(p, "containerPort"))
		}
	}
	return ""
}

func probePort(c map[string]any, probe, kind string) string {
	p := str(at(c, probe, kind, "port"))
	if n := namedPort(c, p); n != "" {
		return n
	}
	return p
}

func selects(t *testing.T, what string, selector any, deploy map[string]any) {
	t.Helper()
	labels, _ := at(deploy, "spec", "template", "metadata", "labels").(map[string]any)
	sel, _ := selector.(map[string]any)
	if len(sel) == 0 {
		t.Errorf("%s selects nothing", what)
	}
	for k, v := range sel {
		if str(labels[k]) != str(v) {
			t.Errorf("%s selects %s=%v, which %s's pods do not carry", what, k, v, str(at(deploy, "metadata", "name")))
		}
	}
}

func TestKubernetes(t *testing.T) {
	const dir = "k8s"
	_, objs := manifests(t, dir)
	for key, o := range objs {
		if strings.HasPrefix(key, "Secret/") && (o["data"] != nil || o["stringData"] != nil) {
			t.Errorf("%s carries secret values in the repository", key)
		}
	}
	f := imageFacts(t)
	env := newEnvChecker(t)

	server, edge := objs["Deployment/spm-server"], objs["Deployment/spm-edge"]
	if server == nil || edge == nil {
		t.Fatal("no spm-server or spm-edge Deployment")
	}

	// The server.
	sc := container(t, server)
	where := "Deployment/spm-server"
	if str(sc["image"]) != "cesivi/server:latest" {
		t.Errorf("%s image %v", where, sc["image"])
	}
	if r := str(at(server, "spec", "replicas")); r != "3" {
		t.Errorf("%s replicas %s, want the seed's 3", where, r)
	}
	if namedPort(sc, "http") != f.serverPort {
		t.Errorf("%s does not name the image's port %s http", where, f.serverPort)
	}
	for probe, path := range map[string]string{"livenessProbe": "/health/live", "readinessProbe": "/health/ready", "startupProbe": "/health/live"} {
		if got := str(at(sc, probe, "httpGet", "path")); got != path {
			t.Errorf("%s %s path %q, want %s", where, probe, got, path)
		}
		if got := probePort(sc, probe, "httpGet"); got != f.serverPort {
			t.Errorf("%s %s on port %s, the server listens on %s", where, probe, got, f.serverPort)
		}
	}
	for _, r := range []string{"requests", "limits"} {
		if at(sc, "resources", r, "memory") == nil || at(sc, "resources", r, "cpu") == nil {
			t.Errorf("%s has no resources.%s", where, r)
		}
	}
	vars, secrets, keys := podEnvKeys(t, where, sc, env.server)
	documented := documentedSecretKeys(t, dir)
	for _, k := range keys {
		mustContain(t, where+": secret key", documented, k)
	}
	for _, name := range []string{"Cesivi__DistributedState__ConnectionString", "Cesivi__Storage__ConnectionString", "Cesivi__DataProtection__MasterKey"} {
		if _, ok := vars[name]; !ok {
			t.Errorf("%s does not set %s", where, name)
		}
	}
	if len(secrets) != 3 || slices.Compact(slices.Clone(secrets))[0] != "spm-secrets" || len(slices.Compact(slices.Clone(secrets))) != 1 {
		t.Errorf("%s takes its secrets from %v, want spm-secrets (the seed's name)", where, secrets)
	}
	settings := loadAsServer(t, where, vars)
	if !settings.Farm.Enabled || settings.Storage.Provider != "PostgreSQL" || settings.DistributedState.Provider != "Redis" {
		t.Errorf("%s is not a farm member on Redis and PostgreSQL", where)
	}
	if settings.Server.ShutdownDelay == 0 {
		t.Errorf("%s: no ShutdownDelay, so a rolling update cuts requests", where)
	}
	grace := duration(t, where, str(at(server, "spec", "template", "spec", "terminationGracePeriodSeconds"))+"s")
	if need := graceNeeded(settings); grace <= need {
		t.Errorf("%s: terminationGracePeriodSeconds %s, the shutdown takes up to %s", where, grace, need)
	}

	svc := objs["Service/spm-server"]
	if svc == nil {
		t.Fatal("no spm-server Service")
	}
	selects(t, "Service/spm-server", at(svc, "spec", "selector"), server)
	if str(at(svc, "spec", "clusterIP")) != "None" {
		t.Error("Service/spm-server is not headless: the edges would see one address, not each server")
	}
	svcPort := str(at(svc, "spec", "ports", 0, "port"))
	if tp := str(at(svc, "spec", "ports", 0, "targetPort")); tp != "http" && tp != f.serverPort {
		t.Errorf("Service/spm-server targets %s", tp)
	}

	pdb := objs["PodDisruptionBudget/spm-server"]
	if pdb == nil {
		t.Fatal("no PodDisruptionBudget for spm-server")
	}
	selects(t, "PodDisruptionBudget/spm-server", at(pdb, "spec", "selector", "matchLabels"), server)
	if m, replicas := atoi(at(pdb, "spec", "minAvailable")), atoi(at(server, "spec", "replicas")); m < 1 || m >= replicas {
		t.Errorf("PodDisruptionBudget/spm-server minAvailable %d: want at least 1 and fewer than the replicas (or no drain can proceed)", m)
	}

	// The edge.
	ec := container(t, edge)
	where = "Deployment/spm-edge"
	if str(ec["image"]) != "cesivi/edge:latest" {
		t.Errorf("%s image %v", where, ec["image"])
	}
	evars, _, ekeys := podEnvKeys(t, where, ec, env.edgeVar)
	for _, k := range ekeys {
		mustContain(t, where+": secret key", documented, k)
	}
	if evars["CESIVI_UPSTREAM_NAME"] != "spm-server" || evars["CESIVI_UPSTREAM_PORT"] != svcPort {
		t.Errorf("%s sends to %s:%s, want the spm-server Service on %s", where, evars["CESIVI_UPSTREAM_NAME"], evars["CESIVI_UPSTREAM_PORT"], svcPort)
	}
	for name, def := range caddyfileVars(t, orchestratedCaddyfile) {
		if _, set := evars[name]; def == "" && !set && name != "CESIVI_OIDC_CLIENT_SECRET" {
			t.Errorf("%s leaves %s unset, which the Caddyfile needs", where, name)
		}
	}
	if got := []string{namedPort(ec, "http"), namedPort(ec, "https")}; !slices.Equal(got, f.edgePorts) {
		t.Errorf("%s ports %v, the image listens on %v", where, got, f.edgePorts)
	}
	// Mounted files: the Caddyfile where the image reads it, the client
	// secret where CESIVI_OIDC_CLIENT_SECRET_FILE says.
	volumes := map[string]any{}
	for _, v := range asList(at(edge, "spec", "template", "spec", "volumes")) {
		volumes[str(at(v, "name"))] = v
	}
	files := map[string]string{} // path in the container -> "configMap:<name>" or "secret:<name>"
	for _, m := range asList(ec["volumeMounts"]) {
		v := volumes[str(at(m, "name"))]
		for _, kind := range []struct{ field, name string }{{"configMap", "name"}, {"secret", "secretName"}} {
			src := at(v, kind.field)
			if src == nil {
				continue
			}
			for _, it := range asList(at(src, "items")) {
				if kind.field == "secret" {
					mustContain(t, where+": secret key", documented, str(at(it, "key")))
				}
				files[path.Join(str(at(m, "mountPath")), str(at(it, "path")))] = kind.field + ":" + str(at(src, kind.name)) + ":" + str(at(it, "key"))
			}
		}
	}
	if files[f.edgeConfig] != "configMap:spm-edge-caddyfile:Caddyfile" {
		t.Errorf("%s: %s is %q, want the spm-edge-caddyfile ConfigMap", where, f.edgeConfig, files[f.edgeConfig])
	}
	if p := evars["CESIVI_OIDC_CLIENT_SECRET_FILE"]; !strings.HasPrefix(files[p], "secret:spm-secrets:") {
		t.Errorf("%s: CESIVI_OIDC_CLIENT_SECRET_FILE=%s is no mounted secret (%v)", where, p, files)
	}
	if grace := atoi(at(edge, "spec", "template", "spec", "terminationGracePeriodSeconds")); time.Duration(grace)*time.Second < graceNeeded(settings) {
		t.Errorf("%s: terminationGracePeriodSeconds %d, less than the servers need to drain", where, grace)
	}

	lb := objs["Service/spm-edge"]
	if lb == nil || str(at(lb, "spec", "type")) != "LoadBalancer" {
		t.Fatal("no LoadBalancer Service spm-edge")
	}
	selects(t, "Service/spm-edge", at(lb, "spec", "selector"), edge)
	for _, p := range asList(at(lb, "spec", "ports")) {
		if tp := str(at(p, "targetPort")); namedPort(ec, tp) == "" {
			t.Errorf("Service/spm-edge targets %s, which the edge does not name", tp)
		}
	}
	if objs["PodDisruptionBudget/spm-edge"] == nil {
		t.Error("no PodDisruptionBudget for spm-edge")
	}
}

// kubectl builds the kustomization (no cluster needed).
func TestKubernetesKustomize(t *testing.T) {
	runIfPresent(t, nil, "kubectl", "kustomize", "k8s")
}
