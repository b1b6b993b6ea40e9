// Package webhook is the client side of SharePoint-style list webhooks: the
// URL and address policy for notification URLs, the validation handshake
// made when a subscription is created, the delivery of notification bodies,
// and the retry schedule. It stores nothing and knows nothing of
// subscriptions; the REST API and the job worker build on it.
//
// # The policy
//
// A notification URL (CheckURL) is an absolute http or https URL of at most
// 2048 bytes with a host, without credentials (user info) and without a
// fragment.
//
// The address policy is applied by the Client on every address it connects
// to, after name resolution, in the dialer's Control hook: a name that
// resolves, or is made to rebind, to a non-public address is refused even
// though the URL looked public, and there is no proxy from the environment
// to go around it. Refused unless allow-listed (Options.AllowList):
// loopback (127/8, ::1), link-local (169.254/16, fe80::/10), private
// (10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10), shared
// (100.64/10, carrier-grade NAT), unspecified (0/8, ::), multicast and
// reserved (240/4) addresses, and the cloud metadata addresses
// (169.254.169.254, fd00:ec2::254). Options.AllowPrivate, meant for a
// single development server, lets loopback, link-local, private and shared
// addresses through.
//
// The metadata addresses stay refused with AllowPrivate, with an
// allow-listed host name and with an allow-listed CIDR that contains them:
// only an allow-list entry of that very address lets one through. A
// receiver there is never a real webhook receiver, and reaching it from a
// server hands out the server's cloud credentials; a development setting or
// a broad entry must not open it by accident.
//
// The Client follows no redirects (a 3xx is a failed delivery, not
// retried), has connect and response timeouts and reads at most
// Options.MaxResponseBytes of any answer.
package webhook
