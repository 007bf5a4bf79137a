package oidctest

import (
	"context"
	"slices"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// users is the provider's user store, with groups beside it.
type users struct {
	byID   map[string]*storage.User
	groups map[string][]string
}

var _ storage.UserStore = (*users)(nil)

func newUsers(list []User) *users {
	u := &users{byID: map[string]*storage.User{}, groups: map[string][]string{}}
	for _, x := range list {
		u.byID[x.ID] = &storage.User{ID: x.ID, Username: x.Username, Password: x.Password,
			FirstName: x.Username, Email: x.Email, EmailVerified: true}
		u.groups[x.ID] = slices.Clone(x.Groups)
	}
	return u
}

func (u *users) GetUserByID(id string) *storage.User { return u.byID[id] }

func (u *users) GetUserByUsername(name string) *storage.User {
	for _, x := range u.byID {
		if x.Username == name {
			return x
		}
	}
	return nil
}

func (u *users) ExampleClientID() string { return storage.ServiceUserID }

// store wraps the example storage: rotating keys, JWT access tokens, and
// the email and groups claims in every token.
type store struct {
	*storage.Storage
	users *users
	keys  *keyring
}

func (s *store) SigningKey(context.Context) (op.SigningKey, error) { return s.keys.signing(), nil }

func (s *store) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *store) KeySet(context.Context) ([]op.Key, error) { return s.keys.keySet(), nil }

// jwtClient makes a client's access tokens JWTs, which cairn's API verifies.
type jwtClient struct{ op.Client }

func (jwtClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }

func (s *store) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return jwtClient{c}, nil
}

// SetUserinfoFromRequest adds email and groups to ID tokens.
func (s *store) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, info, req, scopes); err != nil {
		return err
	}
	for k, v := range s.claims(req.GetSubject()) {
		info.AppendClaims(k, v)
	}
	return nil
}

// GetPrivateClaimsFromScopes adds email and groups to JWT access tokens.
func (s *store) GetPrivateClaimsFromScopes(ctx context.Context, userID, clientID string, scopes []string) (map[string]any, error) {
	claims, err := s.Storage.GetPrivateClaimsFromScopes(ctx, userID, clientID, scopes)
	if err != nil {
		return nil, err
	}
	if claims == nil {
		claims = map[string]any{}
	}
	for k, v := range s.claims(userID) {
		claims[k] = v
	}
	return claims, nil
}

// claims are the email and groups of a user; none for anyone else.
func (s *store) claims(userID string) map[string]any {
	u := s.users.byID[userID]
	if u == nil {
		return nil
	}
	return map[string]any{"email": u.Email, GroupsClaim: slices.Clone(s.users.groups[userID])}
}
