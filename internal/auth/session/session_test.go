package session

import (
	"errors"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	v1 "github.com/cairn-gitops/cairn/internal/api/v1alpha1"
	"github.com/cairn-gitops/cairn/internal/auth/identity"
)

var alice = identity.Principal{Kind: identity.User, Name: "alice@acme.example", Groups: []string{"ops"}, Method: identity.JWT}

func newStore(t *testing.T, timeout time.Duration, max int) (*Store, *clocktesting.FakePassiveClock) {
	t.Helper()
	clk := clocktesting.NewFakePassiveClock(time.Date(2027, 1, 1, 9, 0, 0, 0, time.UTC))
	return New(Limits{Timeout: timeout, MaxConcurrent: max}, clk), clk
}

func TestCreateGetTimeout(t *testing.T) {
	s, clk := newStore(t, time.Hour, 3)
	sess, err := s.Create(alice)
	if err != nil {
		t.Fatal(err)
	}
	if len(sess.ID) != idLen || sess.Expires.Sub(sess.Created) != time.Hour {
		t.Fatalf("session %+v", sess)
	}
	got, err := s.Get(sess.ID)
	if err != nil || got.Principal.Name != alice.Name || got.ID != "" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	clk.SetTime(clk.Now().Add(time.Hour - time.Second))
	if _, err := s.Get(sess.ID); err != nil {
		t.Fatalf("before timeout: %v", err)
	}
	clk.SetTime(clk.Now().Add(time.Second))
	if _, err := s.Get(sess.ID); !errors.Is(err, ErrExpired) {
		t.Fatalf("at timeout: %v", err)
	}
	if _, err := s.Get(sess.ID); !errors.Is(err, ErrNotFound) || s.Len() != 0 {
		t.Fatalf("expired session kept: %v, %d", err, s.Len())
	}
}

func TestMaxConcurrentEndsTheOldest(t *testing.T) {
	s, clk := newStore(t, time.Hour, 2)
	var ids []string
	for range 3 {
		sess, err := s.Create(alice)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sess.ID)
		clk.SetTime(clk.Now().Add(time.Minute))
	}
	if _, err := s.Get(ids[0]); !errors.Is(err, ErrNotFound) {
		t.Errorf("oldest session survived: %v", err)
	}
	for _, id := range ids[1:] {
		if _, err := s.Get(id); err != nil {
			t.Errorf("newer session ended: %v", err)
		}
	}
	bob := identity.Principal{Kind: identity.User, Name: "bob"}
	if _, err := s.Create(bob); err != nil || s.Len() != 3 {
		t.Errorf("another user's session counts against alice: %v, %d", err, s.Len())
	}
}

func TestShorterTimeoutAppliesAtOnce(t *testing.T) {
	s, clk := newStore(t, 8*time.Hour, 0)
	sess, _ := s.Create(alice)
	clk.SetTime(clk.Now().Add(2 * time.Hour))
	s.SetLimits(Limits{Timeout: time.Hour})
	if _, err := s.Get(sess.ID); !errors.Is(err, ErrExpired) {
		t.Errorf("after a shorter timeout: %v", err)
	}
}

func TestDeleteAndSweep(t *testing.T) {
	s, clk := newStore(t, time.Hour, 0)
	a, _ := s.Create(alice)
	b, _ := s.Create(alice)
	s.Delete(a.ID)
	s.Delete("not-an-id")
	if _, err := s.Get(a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted session: %v", err)
	}
	if _, err := s.Get(b.ID); err != nil {
		t.Errorf("other session: %v", err)
	}
	clk.SetTime(clk.Now().Add(2 * time.Hour))
	if n := s.Sweep(); n != 1 || s.Len() != 0 {
		t.Errorf("Sweep = %d, left %d", n, s.Len())
	}
	c, _ := s.Create(alice)
	if n := s.DeletePrincipal(alice); n != 1 {
		t.Errorf("DeletePrincipal = %d", n)
	}
	if _, err := s.Get(c.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("after DeletePrincipal: %v", err)
	}
}

func TestGetRefusesGuesses(t *testing.T) {
	s, _ := newStore(t, time.Hour, 0)
	sess, _ := s.Create(alice)
	for _, id := range []string{"", "x", sess.ID[:idLen-1], sess.ID + "x", sess.ID[:idLen-1] + "A"} {
		if id == sess.ID {
			continue
		}
		if _, err := s.Get(id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) = %v", id, err)
		}
	}
	if _, err := s.Create(identity.Principal{}); err == nil {
		t.Error("session for nobody")
	}
}

func TestLimitsFromSpec(t *testing.T) {
	l, err := LimitsFromSpec(&v1.Sessions{Timeout: "8h", MaxConcurrent: 3})
	if err != nil || l.Timeout != 8*time.Hour || l.MaxConcurrent != 3 {
		t.Errorf("%+v %v", l, err)
	}
	if l, _ := LimitsFromSpec(nil); l.Timeout != DefaultTimeout || l.MaxConcurrent != DefaultMaxConcurrent {
		t.Errorf("defaults %+v", l)
	}
	for _, s := range []v1.Sessions{{Timeout: "soon"}, {Timeout: "0s"}, {MaxConcurrent: -1}} {
		if _, err := LimitsFromSpec(&s); err == nil {
			t.Errorf("accepted %+v", s)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	s, _ := newStore(t, time.Hour, 3)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			p := alice
			if i%2 == 0 {
				p.Name = "bob"
			}
			for range 50 {
				sess, err := s.Create(p)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = s.Get(sess.ID)
				s.Sweep()
			}
		})
	}
	wg.Wait()
	if n := s.Len(); n != 6 {
		t.Errorf("%d sessions held, want 3 per user", n)
	}
}
