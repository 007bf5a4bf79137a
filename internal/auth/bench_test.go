package auth

import (
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/cairn-gitops/cairn/internal/auth/rbac"
)

// BenchmarkCheck authenticates and authorizes one request, per method; the
// status API's budget is about 400 µs of CPU per request on 2 cores.
func BenchmarkCheck(b *testing.B) {
	w := newWorld(b)
	a := w.authenticator(b, w.config(), clocktesting.NewFakePassiveClock(time.Now()))
	for name, cred := range map[string]string{"apikey": w.keys["ci-validate"], "jwt": w.tokens["alice"]} {
		b.Run(name, func(b *testing.B) {
			r := bearer(cred)
			for b.Loop() {
				if _, d, err := a.Check(r, rbac.ReadAdapters, prod); err != nil || !d.Allowed {
					b.Fatal(d, err)
				}
			}
		})
	}
}
