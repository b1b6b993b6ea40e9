package sharepoint_test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestTheDocumentedExamplesWork runs every curl line of the Examples in
// docs/sharepoint-api.md, in order, and checks the status its comment
// gives, so the documentation stays true.
func TestTheDocumentedExamplesWork(t *testing.T) {
	f, err := os.Open("../../docs/sharepoint-api.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	in, examples := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "## "):
			examples = l == "## Examples"
		case examples && strings.HasPrefix(l, "```"):
			in = !in
		case examples && in:
			lines = append(lines, l)
		}
	}
	if len(lines) < 10 {
		t.Fatalf("found %d example lines", len(lines))
	}
	eachProvider(t, func(t *testing.T, a *api) {
		vars := map[string]string{"B": a.srv.URL, "C": "cesivi_session=…"}
		for _, l := range lines {
			if strings.HasPrefix(l, "D=$(") {
				a.signIn("")
				vars["D"] = a.digest
				continue
			}
			words, comment := shellWords(l, vars)
			if len(words) == 0 || words[0] != "curl" {
				t.Fatalf("not a curl line: %s", l)
			}
			want, err := strconv.Atoi(strings.TrimSpace(comment))
			if err != nil {
				t.Fatalf("no expected status after # in: %s", l)
			}
			method, url, body := "GET", "", ""
			var headers []string
			for i := 1; i < len(words); i++ {
				switch w := words[i]; w {
				case "-s":
				case "-X":
					i++
					method = words[i]
				case "-b":
					i++
				case "-H":
					i++
					k, v, _ := strings.Cut(words[i], ":")
					headers = append(headers, strings.TrimSpace(k), strings.TrimSpace(v))
				case "-d":
					i++
					body = words[i]
					if method == "GET" {
						method = "POST"
					}
				default:
					url = w
				}
			}
			a.digest = "" // only what the line sends
			if !strings.Contains(strings.Join(headers, " "), "X-RequestDigest") {
				headers = append(headers, "X-RequestDigest", "")
			}
			var b any
			if body != "" {
				b = body
			}
			r := a.req(method, strings.TrimPrefix(url, a.srv.URL), b, headers...)
			if r.status != want {
				t.Errorf("%s\n→ %d, the docs say %d: %s", l, r.status, want, r.body)
			}
		}
	})
}

// shellWords splits a shell line into words the way sh would for these
// examples: single quotes literal, double quotes expanding $NAME and
// \$, # outside quotes starting a comment (returned).
func shellWords(line string, vars map[string]string) (words []string, comment string) {
	var cur strings.Builder
	inWord := false
	expand := func(i int) int { // at '$'
		j := i + 1
		for j < len(line) && (line[j] == '_' || line[j] >= 'A' && line[j] <= 'Z' || line[j] >= 'a' && line[j] <= 'z') {
			j++
		}
		cur.WriteString(vars[line[i+1:j]])
		return j - 1
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			inWord = true
			j := strings.IndexByte(line[i+1:], '\'')
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			inWord = true
			for i++; i < len(line) && line[i] != '"'; i++ {
				switch {
				case line[i] == '\\' && i+1 < len(line):
					i++
					cur.WriteByte(line[i])
				case line[i] == '$':
					i = expand(i)
				default:
					cur.WriteByte(line[i])
				}
			}
		case c == '#' && !inWord:
			return words, line[i+1:]
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\\' && i+1 < len(line):
			inWord = true
			i++
			cur.WriteByte(line[i])
		case c == '$':
			inWord = true
			i = expand(i)
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, ""
}
