package api

import (
	"bytes"
	"encoding/json"
	"sync"

	"github.com/cairn-gitops/cairn/internal/auth/identity"
	"github.com/cairn-gitops/cairn/internal/auth/mask"
	"github.com/cairn-gitops/cairn/internal/auth/rbac"
	"github.com/cairn-gitops/cairn/internal/status"
)

// adapterCache keeps the adapter list encoded, per status version and
// masking, so that listing costs filtering and copying bytes rather than
// encoding a thousand adapters per request.
type adapterCache struct {
	mu      sync.Mutex
	version uint64
	masker  *mask.Masker
	built   bool
	entries []adapterEntry
	byKey   map[string]int
}

// adapterEntry is one adapter of the list: what filters and RBAC look at,
// and its JSON.
type adapterEntry struct {
	key, env, name, health, protocol, role string
	labels                                 map[string]string
	json                                   []byte
}

// snapshot returns the entries for the current status and masking.
func (c *adapterCache) snapshot(st *status.Store, m *mask.Masker) []adapterEntry {
	v := st.Version()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.built && c.version == v && c.masker == m {
		return c.entries
	}
	snap, v := st.Versioned()
	c.entries, c.byKey = make([]adapterEntry, 0, len(snap.Adapters)), make(map[string]int, len(snap.Adapters))
	for _, a := range snap.Adapters {
		b := encodeMasked(m, a)
		c.byKey[a.Key] = len(c.entries)
		c.entries = append(c.entries, adapterEntry{key: a.Key, env: a.Environment, name: a.Name, health: a.Health,
			protocol: a.Protocol, role: a.Role, labels: a.Labels, json: b})
	}
	c.version, c.masker, c.built = v, m, true
	return c.entries
}

// entry returns one adapter's entry.
func (c *adapterCache) entry(st *status.Store, key string) (adapterEntry, bool) {
	c.mu.Lock()
	m := c.masker
	c.mu.Unlock()
	entries := c.snapshot(st, m)
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.byKey[key]
	if !ok || i >= len(entries) {
		return adapterEntry{}, false
	}
	return entries[i], true
}

// encodeMasked is v's JSON with the masked fields masked.
func encodeMasked(m *mask.Masker, v any) []byte {
	if m.Enabled() {
		if mv, err := m.Value(v); err == nil {
			v = mv
		}
	}
	b, _ := json.Marshal(v) // status types marshal
	return b
}

// listFilter is what the adapter list's query selects.
type listFilter struct {
	environment, health, protocol, role string
	labels                              map[string]string
	after                               string
	limit                               int
}

func (f listFilter) match(e adapterEntry) bool {
	if f.environment != "" && e.env != f.environment || f.health != "" && e.health != f.health ||
		f.protocol != "" && e.protocol != f.protocol || f.role != "" && e.role != f.role {
		return false
	}
	for k, v := range f.labels {
		if e.labels[k] != v {
			return false
		}
	}
	return f.after == "" || e.key > f.after
}

// page writes the visible entries that match, up to the limit, as
// {"adapters": [...], "next": "key"}. It stops at the first entry past the
// page, deciding RBAC for the entries it reads with one view of the caller.
func page(az *rbac.Authorizer, who identity.Principal, entries []adapterEntry, f listFilter) []byte {
	sub := az.For(who)
	buf := bytes.NewBuffer(make([]byte, 0, 64+f.limit*512))
	buf.WriteString(`{"adapters":[`)
	n, last := 0, ""
	for i := range entries {
		e := &entries[i]
		if !f.match(*e) || !sub.Decide(rbac.ReadAdapters, rbac.Resource{Environment: e.env, Adapter: e.name, Labels: e.labels}).Allowed {
			continue
		}
		if n == f.limit {
			next, _ := json.Marshal(last)
			buf.WriteString(`],"next":`)
			buf.Write(next)
			buf.WriteString("}\n")
			return buf.Bytes()
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		buf.Write(e.json)
		n, last = n+1, e.key
	}
	buf.WriteString("]}\n")
	return buf.Bytes()
}
