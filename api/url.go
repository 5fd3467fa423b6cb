package api

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// The two deployments of the API. Their host names come from the API
// document; ProductionURL is the default base.
const (
	ProductionURL = "https://api.care360-next.carevalidate.com"
	StagingURL    = "https://api-staging.care360-next.carevalidate.com"
)

// ParseBaseURL checks s as the base URL of the API and returns it with an
// empty path. The scheme must be https; plain http is accepted only when
// the host is a loopback address (127.0.0.0/8, ::1 or localhost), which is
// what a local fake listens on. The URL may carry a port and one trailing
// slash, but no other path, no query, no fragment and no user info: the key
// travels in a header, never in the URL.
func ParseBaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		// Drop url.Error's copy of the input: it may hold a password.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("base url: %w", err)
	}

	switch {
	case u.User != nil:
		return nil, fmt.Errorf("base url %q: user info is not allowed",
			u.Redacted())
	case u.Opaque != "" || u.Host == "":
		return nil, fmt.Errorf("base url %q: want scheme://host[:port]", s)
	case u.Path != "" && u.Path != "/":
		return nil, fmt.Errorf("base url %q: no path allowed, got %q",
			s, u.Path)
	case u.RawQuery != "" || u.ForceQuery:
		return nil, fmt.Errorf("base url %q: no query allowed", s)
	case u.Fragment != "":
		return nil, fmt.Errorf("base url %q: no fragment allowed", s)
	}

	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("base url %q: %w", s, errPlainHTTP)
		}
	default:
		return nil, fmt.Errorf("base url %q: scheme must be https", s)
	}

	u.Scheme = strings.ToLower(u.Scheme)
	u.Path, u.RawPath = "", ""
	return u, nil
}

var errPlainHTTP = errors.New(
	"plain http is only allowed to a loopback host; use https")

// isLoopback reports whether host names this machine: localhost or an
// address in 127.0.0.0/8 or ::1. Other names are not resolved, so a name
// that happens to point at 127.0.0.1 is still refused.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
