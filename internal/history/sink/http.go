package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-gitops/cairn/internal/api/v1alpha1"
)

// Headers sent with every POST besides the secret ones.
const (
	HeaderFirstSeq = "Cairn-Audit-First-Seq"
	HeaderLastSeq  = "Cairn-Audit-Last-Seq"
)

const (
	// maxRetryAfter caps the wait a Retry-After asks for.
	maxRetryAfter = time.Hour
	// maxErrorBody is how much of a refusal's body goes into the error.
	maxErrorBody = 256
)

// httpSink POSTs batches as a JSON array.
type httpSink struct {
	url       *url.URL
	name      string
	client    *http.Client
	timeout   time.Duration
	headers   *v1alpha1.SecretRef
	secretDir string
	now       func() time.Time
}

// statusError is a non-2xx answer.
type statusError struct {
	code int
	// retryAfter is what a 429 or 503 asked for; 0 when nothing.
	retryAfter time.Duration
	body       string
}

func (e *statusError) Error() string {
	msg := fmt.Sprintf("answered %d %s", e.code, http.StatusText(e.code))
	if e.body != "" {
		msg += ": " + e.body
	}
	return msg
}

// needsOperator reports whether err is an answer that retrying alone is
// unlikely to fix: a 4xx other than 408 Request Timeout and 429 Too Many
// Requests.
func needsOperator(err error) bool {
	var se *statusError
	return errors.As(err, &se) && se.code >= 400 && se.code < 500 &&
		se.code != http.StatusRequestTimeout && se.code != http.StatusTooManyRequests
}

// retryAfterOf returns the wait a refusal asked for, if any.
func retryAfterOf(err error) (time.Duration, bool) {
	var se *statusError
	if errors.As(err, &se) && se.retryAfter > 0 {
		return se.retryAfter, true
	}
	return 0, false
}

// deliver POSTs the whole batch; it is delivered only on a 2xx answer.
// Errors are scrubbed of the header values and the URL's userinfo.
func (s *httpSink) deliver(ctx context.Context, batch []entry) (int, error) {
	secrets := s.userinfo()
	headers, err := s.readHeaders()
	for _, v := range headers {
		secrets = append(secrets, secretParts(v)...)
	}
	if err != nil {
		return 0, scrub(err, secrets...)
	}
	if err := s.post(ctx, batch, headers); err != nil {
		return 0, scrub(fmt.Errorf("POST %s: %w", strings.TrimPrefix(s.name, TypeHTTP+" "), err), secrets...)
	}
	return len(batch), nil
}

// post sends one request and reads its answer.
func (s *httpSink) post(ctx context.Context, batch []entry, headers map[string]string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url.String(), bytes.NewReader(encodeArray(batch)))
	if err != nil {
		return hideURL(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderFirstSeq, strconv.FormatInt(batch[0].seq, 10))
	req.Header.Set(HeaderLastSeq, strconv.FormatInt(batch[len(batch)-1].seq, 10))
	resp, err := s.client.Do(req)
	if err != nil {
		return hideURL(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return &statusError{code: resp.StatusCode, body: snippet(body),
		retryAfter: retryAfter(resp, s.now())}
}

// encodeArray joins the records into one JSON array.
func encodeArray(batch []entry) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, e := range batch {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(e.line)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// readHeaders reads the value of each listed header from its file.
func (s *httpSink) readHeaders() (map[string]string, error) {
	if s.headers == nil {
		return nil, nil
	}
	out := map[string]string{}
	for _, k := range s.headers.Keys {
		path := filepath.Join(s.secretDir, s.headers.Name, k)
		data, err := os.ReadFile(path)
		if err != nil {
			return out, fmt.Errorf("reading header %s: %w", k, err)
		}
		v := strings.TrimSpace(string(data))
		out[k] = v
		if strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
			return out, fmt.Errorf("header %s in %s: the value has control characters", k, path)
		}
	}
	return out, nil
}

// userinfo returns the URL's user name and password, to scrub from errors.
func (s *httpSink) userinfo() []string {
	if s.url.User == nil {
		return nil
	}
	out := []string{s.url.User.String(), s.url.User.Username()}
	if p, ok := s.url.User.Password(); ok {
		out = append(out, p)
	}
	return out
}

// close does nothing: idle connections belong to the client.
func (s *httpSink) close() error { return nil }

// retryAfter reads the Retry-After of a 429 or 503 (seconds or an HTTP
// date), capped at maxRetryAfter; 0 when there is none.
func retryAfter(resp *http.Response, now time.Time) time.Duration {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0
	}
	return parseRetryAfter(resp.Header.Get("Retry-After"), now)
}

// parseRetryAfter reads a Retry-After value: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		d = time.Duration(min(max(n, 0), int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// snippet is the start of a refusal's body, on one line.
func snippet(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > maxErrorBody {
		s = s[:maxErrorBody] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}

// hideURL removes the URL net/http puts into its errors (it keeps the user
// name); the destination's name says which endpoint it was.
func hideURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// scrubbed is an error whose text has had secret values replaced.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// minSecretPart is the shortest word of a header value that is scrubbed on
// its own ("Bearer" and "Basic" are not; the token after them is).
const minSecretPart = 8

// secretParts returns a header value and each of its words long enough to
// be a credential, to scrub from errors.
func secretParts(v string) []string {
	out := []string{v}
	for _, w := range strings.Fields(v) {
		if len(w) >= minSecretPart && w != v {
			out = append(out, w)
		}
	}
	return out
}

// scrub returns err with every non-empty secret in its text replaced by
// "[redacted]", longest first. The wrapped error stays reachable for
// errors.Is and As; callers print only Error().
func scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	secrets = slices.Clone(secrets)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return &scrubbed{msg: msg, err: err}
}
