package api

import (
	"context"

	"github.com/behalf-dev/behalf"
)

// Resource servers (ResourceServerType): the custom scopes identifier/name
// that app clients may be allowed and the client_credentials grant issues.

// resourceServerScopeWire is ResourceServerScopeType.
type resourceServerScopeWire struct {
	ScopeName        string `json:"ScopeName"`
	ScopeDescription string `json:"ScopeDescription"`
}

// resourceServerWire is ResourceServerType.
type resourceServerWire struct {
	UserPoolID string                    `json:"UserPoolId"`
	Identifier string                    `json:"Identifier"`
	Name       string                    `json:"Name"`
	Scopes     []resourceServerScopeWire `json:"Scopes"`
}

func resourceServerOut(rs *behalf.ResourceServer) resourceServerWire {
	out := resourceServerWire{UserPoolID: rs.PoolID, Identifier: rs.Identifier, Name: rs.Name, Scopes: []resourceServerScopeWire{}}
	for _, sc := range rs.Scopes {
		out.Scopes = append(out.Scopes, resourceServerScopeWire{ScopeName: sc.Name, ScopeDescription: sc.Description})
	}
	return out
}

// resourceServerIn holds the members of CreateResourceServer and
// UpdateResourceServer.
type resourceServerIn struct {
	UserPoolID string                    `json:"UserPoolId"`
	Identifier string                    `json:"Identifier"`
	Name       string                    `json:"Name"`
	Scopes     []resourceServerScopeWire `json:"Scopes"`
}

// input checks the required members and returns the service's input.
func (in *resourceServerIn) input() (behalf.ResourceServerInput, error) {
	if err := requireMembers("UserPoolId", in.UserPoolID, "Identifier", in.Identifier, "Name", in.Name); err != nil {
		return behalf.ResourceServerInput{}, err
	}
	out := behalf.ResourceServerInput{PoolID: in.UserPoolID, Identifier: in.Identifier, Name: in.Name}
	for _, sc := range in.Scopes {
		out.Scopes = append(out.Scopes, behalf.ResourceServerScope{Name: sc.ScopeName, Description: sc.ScopeDescription})
	}
	return out, nil
}

// resourceServerKeyIn names one resource server.
type resourceServerKeyIn struct {
	UserPoolID string `json:"UserPoolId"`
	Identifier string `json:"Identifier"`
}

func (s *Server) cognitoCreateResourceServer(ctx context.Context, body []byte) (any, error) {
	var in resourceServerIn
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	input, err := in.input()
	if err != nil {
		return nil, err
	}
	rs, err := s.UserPools.CreateResourceServer(ctx, input)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ResourceServer": resourceServerOut(rs)}, nil
}

func (s *Server) cognitoDescribeResourceServer(ctx context.Context, body []byte) (any, error) {
	var in resourceServerKeyIn
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID, "Identifier", in.Identifier); err != nil {
		return nil, err
	}
	rs, err := s.UserPools.DescribeResourceServer(ctx, in.UserPoolID, in.Identifier)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ResourceServer": resourceServerOut(rs)}, nil
}

func (s *Server) cognitoUpdateResourceServer(ctx context.Context, body []byte) (any, error) {
	var in resourceServerIn
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	input, err := in.input()
	if err != nil {
		return nil, err
	}
	rs, err := s.UserPools.UpdateResourceServer(ctx, input)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ResourceServer": resourceServerOut(rs)}, nil
}

func (s *Server) cognitoListResourceServers(ctx context.Context, body []byte) (any, error) {
	var in struct {
		UserPoolID string `json:"UserPoolId"`
		MaxResults *int   `json:"MaxResults"` // optional: absent is the largest page, 0 is refused
		NextToken  string `json:"NextToken"`
	}
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID); err != nil {
		return nil, err
	}
	page := behalf.PageRequest{NextToken: in.NextToken}
	if in.MaxResults != nil {
		if *in.MaxResults == 0 { // PageRequest's 0 would mean the default
			return nil, behalf.CognitoErrorf(behalf.CognitoInvalidParameter,
				"1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1")
		}
		page.MaxResults = *in.MaxResults
	}
	servers, next, err := s.UserPools.ListResourceServers(ctx, in.UserPoolID, page)
	if err != nil {
		return nil, err
	}
	out := struct {
		ResourceServers []resourceServerWire `json:"ResourceServers"`
		NextToken       string               `json:"NextToken,omitempty"`
	}{ResourceServers: []resourceServerWire{}, NextToken: next}
	for _, rs := range servers {
		out.ResourceServers = append(out.ResourceServers, resourceServerOut(rs))
	}
	return out, nil
}

func (s *Server) cognitoDeleteResourceServer(ctx context.Context, body []byte) (any, error) {
	var in resourceServerKeyIn
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID, "Identifier", in.Identifier); err != nil {
		return nil, err
	}
	return nil, s.UserPools.DeleteResourceServer(ctx, in.UserPoolID, in.Identifier)
}
