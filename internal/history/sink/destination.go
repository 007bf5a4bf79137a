package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/cairn-gitops/cairn/internal/api/v1alpha1"
)

// Destination types, as audit.destinations[].type spells them.
const (
	TypeFile   = "file"
	TypeStdout = "stdout"
	TypeHTTP   = "http"
)

// defaultHTTPTimeout bounds one POST when the destination sets no timeout.
const defaultHTTPTimeout = 10 * time.Second

// destination is a validated destination: its identity and how to reach it.
type destination struct {
	// name is the identity: the type and the path or the URL without
	// userinfo. It keys the cursor and names the destination in Stats.
	name string
	kind string
	// config is the destination's whole configuration; a destination whose
	// config changes is restarted from its cursor.
	config string
	sink   sink
}

// sink delivers encoded records to one destination.
type sink interface {
	// deliver writes batch, oldest first, and returns how many of its
	// leading records were delivered (and may be skipped from now on).
	deliver(ctx context.Context, batch []entry) (int, error)
	// close releases what the sink holds open (a file); a later deliver
	// opens it again.
	close() error
}

// entry is one record, encoded.
type entry struct {
	seq  int64
	line []byte // JSON of history.Stored, without a newline
}

// parseDestinations validates dests and builds their sinks, opening
// nothing. The error names the first destination that is wrong.
func (e *env) parseDestinations(dests []v1alpha1.AuditDestination) ([]*destination, error) {
	out := make([]*destination, 0, len(dests))
	seen := map[string]bool{}
	for i, d := range dests {
		dst, err := e.parseDestination(d)
		if err != nil {
			return nil, fmt.Errorf("audit destination %d (%s): %w", i+1, label(d), err)
		}
		if seen[dst.name] {
			return nil, fmt.Errorf("audit destination %d (%s): listed twice", i+1, dst.name)
		}
		seen[dst.name] = true
		out = append(out, dst)
	}
	return out, nil
}

// parseDestination validates one destination.
func (e *env) parseDestination(d v1alpha1.AuditDestination) (*destination, error) {
	config, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encoding the configuration: %w", err)
	}
	dst := &destination{kind: d.Type, config: string(config)}
	switch d.Type {
	case TypeFile:
		dst.name, dst.sink, err = e.parseFile(d.File)
	case TypeStdout:
		dst.name, dst.sink, err = e.parseStdout()
	case TypeHTTP:
		dst.name, dst.sink, err = e.parseHTTP(d.HTTP)
	default:
		err = fmt.Errorf("unknown type %q (want file, stdout or http)", d.Type)
	}
	if err != nil {
		return nil, err
	}
	return dst, nil
}

// label names a destination in an error, before it is known to be valid.
func label(d v1alpha1.AuditDestination) string {
	switch {
	case d.Type == TypeFile && d.File != nil:
		return fileName(filepath.Clean(d.File.Path))
	case d.Type == TypeHTTP && d.HTTP != nil:
		if u, err := url.Parse(d.HTTP.URL); err == nil {
			return httpName(u)
		}
		return "http, URL not shown"
	case d.Type == "":
		return "no type"
	}
	return d.Type
}

// parseStdout validates a stdout destination.
func (e *env) parseStdout() (string, sink, error) {
	if e.stdout == nil {
		return "", nil, errors.New("no standard output to write to (Options.Stdout is nil)")
	}
	return TypeStdout, &stdoutSink{w: e.stdout}, nil
}

// parseHTTP validates an http destination.
func (e *env) parseHTTP(h *v1alpha1.AuditHTTP) (string, sink, error) {
	if h == nil {
		return "", nil, errors.New("type http needs an http block")
	}
	u, err := parseURL(h.URL)
	if err != nil {
		return "", nil, err
	}
	timeout := defaultHTTPTimeout
	if h.Timeout != "" {
		if timeout, err = v1alpha1.ParseDuration(h.Timeout); err != nil {
			return "", nil, fmt.Errorf("timeout: %w", err)
		}
		if timeout <= 0 {
			return "", nil, fmt.Errorf("timeout %q: want more than zero", h.Timeout)
		}
	}
	if err := checkSecretRef(h.HeadersSecretRef); err != nil {
		return "", nil, err
	}
	name := httpName(u)
	return name, &httpSink{url: u, name: name, client: e.client, timeout: timeout,
		headers: h.HeadersSecretRef, secretDir: e.secretDir, now: e.clock.Now}, nil
}

// parseURL parses an endpoint's URL. Its error shows neither the URL nor
// any part of its userinfo.
func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil && rawUserinfo(raw) != "" {
		return nil, &scrubbed{msg: "URL does not parse (not shown: it holds userinfo)", err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("URL does not parse: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("URL scheme %q: want http or https", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("URL has no host")
	}
	return u, nil
}

// rawUserinfo returns what looks like the userinfo of a URL that does not
// parse: the text between "//" and the last "@" of the authority.
func rawUserinfo(raw string) string {
	_, rest, ok := strings.Cut(raw, "//")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		return rest[:i]
	}
	return ""
}

// checkSecretRef makes sure the secret's name and keys are single path
// elements and the keys valid header names.
func checkSecretRef(ref *v1alpha1.SecretRef) error {
	if ref == nil {
		return nil
	}
	if !pathElement(ref.Name) {
		return fmt.Errorf("headersSecretRef: name %q is not a single path element", ref.Name)
	}
	for _, k := range ref.Keys {
		if !pathElement(k) || !headerName(k) {
			return fmt.Errorf("headersSecretRef: key %q is not a header name", k)
		}
	}
	return nil
}

// pathElement reports whether s names one entry of a folder.
func pathElement(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, `/\`)
}

// headerName reports whether s is an HTTP field name (RFC 9110 token).
func headerName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > '~' || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

// httpName is an http destination's identity: its URL without userinfo or
// fragment.
func httpName(u *url.URL) string {
	c := *u
	c.User = nil
	c.Fragment, c.RawFragment = "", ""
	return TypeHTTP + " " + c.String()
}

// fileName is a file destination's identity.
func fileName(path string) string { return TypeFile + " " + path }
