package gitsource

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// DefaultHistoryLimit is how many commits Commits lists at most when
// HistoryOptions.Limit is zero.
const DefaultHistoryLimit = 10_000

// Actions of a FileChange.
const (
	ActionAdd    = "add"
	ActionModify = "modify"
	ActionDelete = "delete"
)

// Kinds of commit signature, by the armor of the signature header.
const (
	SignaturePGP     = "pgp"
	SignatureSSH     = "ssh"
	SignatureX509    = "x509"
	SignatureUnknown = "unknown" // signed, but in no format known here
)

// HistoryOptions tunes Commits.
type HistoryOptions struct {
	// Limit caps the number of commits listed; 0 means
	// DefaultHistoryLimit. When more commits are in the range, the newest
	// Limit are listed and Commits says the list is truncated.
	Limit int
	// PGPKeyRing is an armored OpenPGP key ring. When set, the signature of
	// every PGP-signed commit is checked against it (SignatureInfo).
	PGPKeyRing string
}

// CommitInfo is a commit of a branch's history with what it changed.
type CommitInfo struct {
	Commit
	// Files are the files the commit changed relative to its first parent
	// (for a merge, what the merge brought to the branch), sorted by path.
	// A root commit adds all its files.
	Files []FileChange `json:"files"`
	// Signature says whether and how the commit is signed.
	Signature SignatureInfo `json:"signature"`
}

// FileChange is one file a commit added, modified or deleted. A file that
// became a directory is a delete of the file and an add of each file in
// the directory. A submodule counts as a file.
type FileChange struct {
	// Path is slash-separated, relative to the repository's root.
	Path string `json:"path"`
	// Action is ActionAdd, ActionModify (contents or mode) or ActionDelete.
	Action string `json:"action"`
	// From is the old path of a rename. Renames are not detected: a
	// renamed file is a delete and an add, and From is always "".
	From string `json:"from,omitempty"`
}

// SignatureInfo describes a commit's signature.
type SignatureInfo struct {
	// Kind is SignaturePGP, SignatureSSH, SignatureX509, SignatureUnknown,
	// or "" for an unsigned commit.
	Kind string `json:"kind,omitempty"`
	// Verified is true when a PGP signature was checked against
	// HistoryOptions.PGPKeyRing and holds. SSH and X.509 signatures are
	// never verified here: they report Verified false.
	Verified bool `json:"verified"`
	// Signer is the verifying key's primary identity ("Name <email>"), or
	// its fingerprint when it has none; set only when Verified.
	Signer string `json:"signer,omitempty"`
	// Problem says why a signature did not verify, when a key ring was
	// given and the commit is signed.
	Problem string `json:"problem,omitempty"`
}

// RewrittenError means that the older commit of a range is not an ancestor
// of the newer: the branch's history was rewritten (a force push).
type RewrittenError struct {
	From, To string
	// MergeBase is the best common ancestor of From and To, "" when they
	// have none.
	MergeBase string
}

func (e *RewrittenError) Error() string {
	base := "they have no common ancestor"
	if e.MergeBase != "" {
		base = "their merge base is " + e.MergeBase
	}
	return fmt.Sprintf("history rewritten: %s is not an ancestor of %s (%s)", e.From, e.To, base)
}

// Commits lists the commits that the first-parent chain of to brought
// since from, oldest first, and whether the list was truncated at the
// limit (then the newest commits are the ones listed). from and to are
// revisions as Resolve takes them; from == "" lists to alone, from equal
// to to lists nothing.
//
// The walk follows first parents from to and stops before from. When from
// is an ancestor of to but not on that chain (it came in through a merge's
// second parent, as when main was merged into a feature branch that main
// then fast-forwarded to), the walk stops before the first commit of the
// chain that is an ancestor of from (or from itself): the commits listed
// are exactly those of the chain that from did not have.
//
// When from is not an ancestor of to, it returns a *RewrittenError and no
// commits. A revision that names nothing gives a *RevisionError wrapping
// ErrNotFound: a caller whose from was lost (a clone made anew after a
// force push) may treat that as a rewrite too.
func (r *Repo) Commits(ctx context.Context, from, to string, opts HistoryOptions) ([]CommitInfo, bool, error) {
	keyring, err := parseKeyRing(opts.PGPKeyRing)
	if err != nil {
		return nil, false, err
	}
	w := newWalker(ctx, r)
	toH, err := r.resolveHash(to)
	if err != nil {
		return nil, false, err
	}
	var chain []*object.Commit
	var truncated bool
	if from == "" {
		c, err := w.commit(toH)
		if err != nil {
			return nil, false, err
		}
		chain = []*object.Commit{c}
	} else {
		fromH, err := r.resolveHash(from)
		if err != nil {
			return nil, false, err
		}
		chain, truncated, err = w.rangeOf(fromH, toH, opts.limit())
		if err != nil {
			return nil, false, err
		}
	}
	infos, err := w.infos(chain, keyring)
	if err != nil {
		return nil, false, err
	}
	return infos, truncated, nil
}

func (o HistoryOptions) limit() int {
	if o.Limit <= 0 {
		return DefaultHistoryLimit
	}
	return o.Limit
}

// IsAncestor reports whether ancestor is descendant or one of its
// ancestors (through any parent), as `git merge-base --is-ancestor` does.
func (r *Repo) IsAncestor(ctx context.Context, ancestor, descendant string) (bool, error) {
	a, err := r.resolveHash(ancestor)
	if err != nil {
		return false, err
	}
	d, err := r.resolveHash(descendant)
	if err != nil {
		return false, err
	}
	return newWalker(ctx, r).isAncestor(a, d)
}

// resolveHash resolves a revision to a commit hash.
func (r *Repo) resolveHash(rev string) (plumbing.Hash, error) {
	c, err := r.Resolve(rev)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return plumbing.NewHash(c.Hash), nil
}

func parseKeyRing(armored string) (openpgp.EntityList, error) {
	if armored == "" {
		return nil, nil
	}
	kr, err := openpgp.ReadArmoredKeyRing(strings.NewReader(armored))
	if err != nil {
		return nil, fmt.Errorf("PGP key ring: %w", err)
	}
	return kr, nil
}

// walker reads commits and trees for one call, caching them. Each read
// takes the Repo's lock on its own, so readers of trees are not held up by
// a long walk.
type walker struct {
	ctx     context.Context
	repo    *Repo
	commits map[plumbing.Hash]*object.Commit
	trees   map[plumbing.Hash]*object.Tree
}

// maxCachedTrees bounds the tree cache of one walk; past it, the cache
// starts again empty.
const maxCachedTrees = 4096

func newWalker(ctx context.Context, r *Repo) *walker {
	return &walker{ctx: ctx, repo: r,
		commits: map[plumbing.Hash]*object.Commit{}, trees: map[plumbing.Hash]*object.Tree{}}
}

func (w *walker) commit(h plumbing.Hash) (*object.Commit, error) {
	if c, ok := w.commits[h]; ok {
		return c, nil
	}
	if err := w.ctx.Err(); err != nil {
		return nil, err
	}
	w.repo.mu.Lock()
	c, err := object.GetCommit(w.repo.repo.Storer, h)
	w.repo.mu.Unlock()
	if err != nil {
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return nil, fmt.Errorf("commit %s: %w", h, ErrNotFound)
		}
		return nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	w.commits[h] = c
	return c, nil
}

func (w *walker) tree(h plumbing.Hash) (*object.Tree, error) {
	if t, ok := w.trees[h]; ok {
		return t, nil
	}
	w.repo.mu.Lock()
	t, err := object.GetTree(w.repo.repo.Storer, h)
	w.repo.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("read tree %s: %w", h, err)
	}
	if len(w.trees) >= maxCachedTrees {
		clear(w.trees)
	}
	w.trees[h] = t
	return t, nil
}

// rangeOf is the first-parent chain from to, newest first, that from did
// not have (see Commits), and whether it was cut at limit.
func (w *walker) rangeOf(from, to plumbing.Hash, limit int) ([]*object.Commit, bool, error) {
	// Nearly always from is on the chain: one walk finds it.
	chain, stopped, _, err := w.firstParents(to, limit, func(h plumbing.Hash) bool { return h == from })
	if err != nil || stopped {
		return chain, false, err
	}
	ok, err := w.isAncestor(from, to)
	if err != nil {
		return nil, false, err
	}
	if !ok {
		return nil, false, w.rewritten(from, to)
	}
	// from came in off the chain, or farther than limit: stop at the
	// first commit of the chain that from had.
	had, err := w.ancestors(from)
	if err != nil {
		return nil, false, err
	}
	chain, _, cut, err := w.firstParents(to, limit, func(h plumbing.Hash) bool { return had[h] })
	return chain, cut, err
}

// firstParents walks first parents from start, newest first, until stop
// holds for a commit (not listed), the root, or limit commits; stopped
// says stop held, cut that limit was reached before either.
func (w *walker) firstParents(start plumbing.Hash, limit int, stop func(plumbing.Hash) bool) (chain []*object.Commit, stopped, cut bool, err error) {
	h := start
	for {
		if stop(h) {
			return chain, true, false, nil
		}
		if len(chain) == limit {
			return chain, false, true, nil
		}
		c, err := w.commit(h)
		if err != nil {
			return nil, false, false, err
		}
		chain = append(chain, c)
		if len(c.ParentHashes) == 0 {
			return chain, false, false, nil
		}
		h = c.ParentHashes[0]
	}
}

// isAncestor walks all of d's ancestry looking for a.
func (w *walker) isAncestor(a, d plumbing.Hash) (bool, error) {
	found := false
	err := w.eachAncestor(d, func(h plumbing.Hash) bool {
		found = h == a
		return !found
	})
	return found, err
}

// ancestors is the set of h and all its ancestors.
func (w *walker) ancestors(h plumbing.Hash) (map[plumbing.Hash]bool, error) {
	set := map[plumbing.Hash]bool{}
	err := w.eachAncestor(h, func(a plumbing.Hash) bool {
		set[a] = true
		return true
	})
	return set, err
}

// eachAncestor calls fn for start and each of its ancestors once, breadth
// first, until fn returns false.
func (w *walker) eachAncestor(start plumbing.Hash, fn func(plumbing.Hash) bool) error {
	seen := map[plumbing.Hash]bool{start: true}
	queue := []plumbing.Hash{start}
	for len(queue) > 0 {
		h := queue[0]
		queue = queue[1:]
		if !fn(h) {
			return nil
		}
		c, err := w.commit(h)
		if err != nil {
			return err
		}
		for _, p := range c.ParentHashes {
			if !seen[p] {
				seen[p] = true
				queue = append(queue, p)
			}
		}
	}
	return nil
}

// rewritten is the error for from not being an ancestor of to.
func (w *walker) rewritten(from, to plumbing.Hash) error {
	e := &RewrittenError{From: from.String(), To: to.String()}
	a, err := w.commit(from)
	if err != nil {
		return err
	}
	b, err := w.commit(to)
	if err != nil {
		return err
	}
	w.repo.mu.Lock()
	bases, err := a.MergeBase(b)
	w.repo.mu.Unlock()
	if err != nil {
		return fmt.Errorf("merge base of %s and %s: %w", from, to, err)
	}
	if len(bases) > 0 {
		e.MergeBase = bases[0].Hash.String()
	}
	return e
}

// infos describes a chain given newest first, oldest first.
func (w *walker) infos(chain []*object.Commit, keyring openpgp.EntityList) ([]CommitInfo, error) {
	out := make([]CommitInfo, len(chain))
	for i, c := range chain {
		files, err := w.changes(c)
		if err != nil {
			return nil, err
		}
		sig, err := w.signature(c, keyring)
		if err != nil {
			return nil, err
		}
		out[len(chain)-1-i] = CommitInfo{Commit: commitOf(c), Files: files, Signature: sig}
	}
	return out, nil
}

// changes lists what c changed relative to its first parent.
func (w *walker) changes(c *object.Commit) ([]FileChange, error) {
	if err := w.ctx.Err(); err != nil {
		return nil, err
	}
	var old plumbing.Hash
	if len(c.ParentHashes) > 0 {
		p, err := w.commit(c.ParentHashes[0])
		if err != nil {
			return nil, err
		}
		old = p.TreeHash
	}
	var out []FileChange
	if err := w.diff("", old, c.TreeHash, &out); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// diff adds to out the changes between two trees (ZeroHash is an empty
// tree), skipping subtrees whose hashes are equal.
func (w *walker) diff(prefix string, oldH, newH plumbing.Hash, out *[]FileChange) error {
	if oldH == newH {
		return nil
	}
	oldE, err := w.entries(oldH)
	if err != nil {
		return err
	}
	newE, err := w.entries(newH)
	if err != nil {
		return err
	}
	// Both lists are in Git's order (a directory sorts as its name plus
	// "/"), so one merge walk pairs equal names of equal kind.
	i, j := 0, 0
	for i < len(oldE) || j < len(newE) {
		c := 0
		switch {
		case j == len(newE):
			c = -1
		case i == len(oldE):
			c = 1
		default:
			c = gitCompare(oldE[i], newE[j])
		}
		switch {
		case c < 0:
			err = w.one(prefix, oldE[i], ActionDelete, out)
			i++
		case c > 0:
			err = w.one(prefix, newE[j], ActionAdd, out)
			j++
		default:
			err = w.pair(prefix, oldE[i], newE[j], out)
			i, j = i+1, j+1
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) entries(h plumbing.Hash) ([]object.TreeEntry, error) {
	if h.IsZero() {
		return nil, nil
	}
	t, err := w.tree(h)
	if err != nil {
		return nil, err
	}
	return t.Entries, nil
}

// gitCompare orders tree entries as Git does: by name, a directory's name
// taken as ending in "/". Entries of one name but different kinds differ.
func gitCompare(a, b object.TreeEntry) int {
	n := min(len(a.Name), len(b.Name))
	if c := strings.Compare(a.Name[:n], b.Name[:n]); c != 0 {
		return c
	}
	return cmp.Compare(keyByte(a, n), keyByte(b, n))
}

// keyByte is the i-th byte of e's sort key: its name, then "/" for a
// directory; -1 past the end.
func keyByte(e object.TreeEntry, i int) int {
	switch {
	case i < len(e.Name):
		return int(e.Name[i])
	case i == len(e.Name) && e.Mode == filemode.Dir:
		return '/'
	}
	return -1
}

// one records an entry (a file, or every file under a directory) that is
// only on one side.
func (w *walker) one(prefix string, e object.TreeEntry, action string, out *[]FileChange) error {
	p := prefix + e.Name
	if e.Mode != filemode.Dir {
		*out = append(*out, FileChange{Path: p, Action: action})
		return nil
	}
	if action == ActionAdd {
		return w.diff(p+"/", plumbing.ZeroHash, e.Hash, out)
	}
	return w.diff(p+"/", e.Hash, plumbing.ZeroHash, out)
}

// pair compares entries of one name and kind on both sides.
func (w *walker) pair(prefix string, o, n object.TreeEntry, out *[]FileChange) error {
	if o.Hash == n.Hash && o.Mode == n.Mode {
		return nil
	}
	if n.Mode == filemode.Dir {
		return w.diff(prefix+n.Name+"/", o.Hash, n.Hash, out)
	}
	*out = append(*out, FileChange{Path: prefix + n.Name, Action: ActionModify})
	return nil
}

// signature describes c's signature, checking a PGP one against keyring
// when there is one.
func (w *walker) signature(c *object.Commit, keyring openpgp.EntityList) (SignatureInfo, error) {
	info := SignatureInfo{Kind: signatureKind(c.PGPSignature)}
	if keyring == nil || info.Kind == "" {
		return info, nil
	}
	if info.Kind != SignaturePGP {
		info.Problem = info.Kind + " signatures are not verified"
		return info, nil
	}
	if strings.Count(c.PGPSignature, "-----BEGIN PGP SIGNATURE-----") > 1 {
		info.Problem = "more than one signature"
		return info, nil
	}
	payload := &plumbing.MemoryObject{}
	w.repo.mu.Lock()
	err := c.EncodeWithoutSignature(payload)
	w.repo.mu.Unlock()
	if err != nil {
		return info, fmt.Errorf("signed contents of commit %s: %w", c.Hash, err)
	}
	signed, err := payload.Reader()
	if err != nil {
		return info, fmt.Errorf("signed contents of commit %s: %w", c.Hash, err)
	}
	signer, err := openpgp.CheckArmoredDetachedSignature(keyring, signed, strings.NewReader(c.PGPSignature), nil)
	if err != nil {
		info.Problem = err.Error()
		return info, nil
	}
	info.Verified, info.Signer = true, signerName(signer)
	return info, nil
}

func signatureKind(sig string) string {
	s := strings.TrimSpace(sig)
	switch {
	case s == "":
		return ""
	case strings.HasPrefix(s, "-----BEGIN PGP SIGNATURE-----"):
		return SignaturePGP
	case strings.HasPrefix(s, "-----BEGIN SSH SIGNATURE-----"):
		return SignatureSSH
	case strings.HasPrefix(s, "-----BEGIN SIGNED MESSAGE-----"):
		return SignatureX509
	}
	return SignatureUnknown
}

func signerName(e *openpgp.Entity) string {
	if id := e.PrimaryIdentity(); id != nil && id.Name != "" {
		return id.Name
	}
	return fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)
}
