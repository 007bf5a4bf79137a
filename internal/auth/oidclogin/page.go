package oidclogin

import (
	"html/template"
	"log/slog"
	"net/http"
)

// failure is a refused login step: the status answered, the reason
// recorded, and the cause logged (never shown to the browser).
type failure struct {
	status int
	reason Reason
	err    error
}

// message is the only text a failure shows: fixed, so that nothing the
// request carried is echoed.
func message(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "Login failed: it was not started in this browser, took too long, was already used, or the identity provider refused it. Please log in again."
	case http.StatusForbidden:
		return "Login refused: the identity provider has not verified your email address."
	case http.StatusBadGateway:
		return "Login failed: the identity provider could not be reached or gave an answer cairn cannot accept. Please try again later."
	}
	return "Login failed: cairn could not start a session. Please try again later."
}

// fail logs f, reports it to OnEvent, and answers its fixed page.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, f failure) {
	level := slog.LevelWarn
	if f.status >= http.StatusInternalServerError {
		level = slog.LevelError
	}
	h.log.Log(r.Context(), level, "oidclogin: login failed", "reason", string(f.reason), "status", f.status,
		"error", f.err, "ip", h.opts.ClientIP(r))
	h.emit(r, Event{Kind: EventLoginFailed, Reason: f.reason})
	http.Error(w, message(f.status), f.status)
}

// logoutPage asks the browser to confirm a logout by posting the form; it
// is what GET /auth/logout answers to a request not known to be same-origin.
// Its one parameter is the CSRF token, or "".
const logoutPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log out of cairn</title></head>
<body><form method="post" action="logout">
{{if .}}<input type="hidden" name="` + CSRFField + `" value="{{.}}">{{end}}
<button type="submit">Log out</button>
</form></body></html>
`

func parseLogoutPage() *template.Template {
	return template.Must(template.New("logout").Parse(logoutPage))
}
