package api

import (
	"context"
	"net/http"

	"github.com/behalf-dev/behalf"
)

// Sign-up and password recovery (SignUp, ConfirmSignUp,
// ResendConfirmationCode, ForgotPassword, ConfirmForgotPassword: anonymous;
// AdminConfirmSignUp, AdminResetUserPassword: SigV4).

// codeDeliveryWire is CodeDeliveryDetailsType.
type codeDeliveryWire struct {
	AttributeName  string `json:"AttributeName"`
	DeliveryMedium string `json:"DeliveryMedium"`
	Destination    string `json:"Destination"`
}

func codeDeliveryOut(d *behalf.CodeDeliveryDetails) *codeDeliveryWire {
	if d == nil {
		return nil
	}
	return &codeDeliveryWire{AttributeName: d.AttributeName, DeliveryMedium: d.DeliveryMedium, Destination: d.Destination}
}

// clientUserIn is the members every anonymous code operation has.
type clientUserIn struct {
	ClientID   string        `json:"ClientId"`
	Username   string        `json:"Username"`
	SecretHash behalf.Secret `json:"SecretHash"`
}

func (in *clientUserIn) require() error {
	return requireMembers("ClientId", in.ClientID, "Username", in.Username)
}

func (s *Server) cognitoSignUp(ctx context.Context, body []byte) (any, error) {
	var in struct {
		clientUserIn
		Password       behalf.Secret   `json:"Password"`
		UserAttributes []attributeWire `json:"UserAttributes"`
	}
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := in.require(); err != nil {
		return nil, err
	}
	attrs, err := attributesIn(in.UserAttributes)
	if err != nil {
		return nil, err
	}
	out, err := s.UserPools.SignUp(ctx, behalf.SignUpInput{
		ClientID: in.ClientID, Username: in.Username, Password: in.Password, SecretHash: in.SecretHash, Attributes: attrs,
	})
	if err != nil {
		return nil, err
	}
	return struct {
		UserConfirmed       bool              `json:"UserConfirmed"`
		UserSub             string            `json:"UserSub"`
		CodeDeliveryDetails *codeDeliveryWire `json:"CodeDeliveryDetails,omitempty"`
	}{out.UserConfirmed, out.UserSub, codeDeliveryOut(out.CodeDelivery)}, nil
}

// confirmIn is ConfirmSignUp's and ConfirmForgotPassword's request.
type confirmIn struct {
	clientUserIn
	ConfirmationCode behalf.Secret `json:"ConfirmationCode"`
	Password         behalf.Secret `json:"Password"`
}

func (in *confirmIn) decode(body []byte, password bool) (behalf.ConfirmCodeInput, error) {
	if err := decodeCognito(body, in); err != nil {
		return behalf.ConfirmCodeInput{}, err
	}
	if err := in.require(); err != nil {
		return behalf.ConfirmCodeInput{}, err
	}
	if err := requireMembers("ConfirmationCode", in.ConfirmationCode.Reveal()); err != nil {
		return behalf.ConfirmCodeInput{}, err
	}
	if password {
		if err := requireMembers("Password", in.Password.Reveal()); err != nil {
			return behalf.ConfirmCodeInput{}, err
		}
	}
	return behalf.ConfirmCodeInput{
		ClientID: in.ClientID, Username: in.Username, Code: in.ConfirmationCode, Password: in.Password, SecretHash: in.SecretHash,
	}, nil
}

func (s *Server) cognitoConfirmSignUp(ctx context.Context, body []byte) (any, error) {
	var in confirmIn
	c, err := in.decode(body, false)
	if err != nil {
		return nil, err
	}
	return nil, s.UserPools.ConfirmSignUp(ctx, c)
}

func (s *Server) cognitoConfirmForgotPassword(ctx context.Context, body []byte) (any, error) {
	var in confirmIn
	c, err := in.decode(body, true)
	if err != nil {
		return nil, err
	}
	return nil, s.UserPools.ConfirmForgotPassword(ctx, c)
}

// codeRequest decodes ResendConfirmationCode's and ForgotPassword's request.
func codeRequest(body []byte) (behalf.CodeRequestInput, error) {
	var in clientUserIn
	if err := decodeCognito(body, &in); err != nil {
		return behalf.CodeRequestInput{}, err
	}
	if err := in.require(); err != nil {
		return behalf.CodeRequestInput{}, err
	}
	return behalf.CodeRequestInput{ClientID: in.ClientID, Username: in.Username, SecretHash: in.SecretHash}, nil
}

// deliveryOut is the answer of an operation that sent a code.
func deliveryOut(d *behalf.CodeDeliveryDetails) any {
	return struct {
		CodeDeliveryDetails *codeDeliveryWire `json:"CodeDeliveryDetails"`
	}{codeDeliveryOut(d)}
}

func (s *Server) cognitoResendConfirmationCode(ctx context.Context, body []byte) (any, error) {
	in, err := codeRequest(body)
	if err != nil {
		return nil, err
	}
	d, err := s.UserPools.ResendConfirmationCode(ctx, in)
	if err != nil {
		return nil, err
	}
	return deliveryOut(d), nil
}

func (s *Server) cognitoForgotPassword(ctx context.Context, body []byte) (any, error) {
	in, err := codeRequest(body)
	if err != nil {
		return nil, err
	}
	d, err := s.UserPools.ForgotPassword(ctx, in)
	if err != nil {
		return nil, err
	}
	return deliveryOut(d), nil
}

func (s *Server) cognitoAdminConfirmSignUp(ctx context.Context, body []byte) (any, error) {
	var in poolUserIn
	if err := in.decode(body); err != nil {
		return nil, err
	}
	return nil, s.UserPools.AdminConfirmSignUp(ctx, in.UserPoolID, in.Username)
}

func (s *Server) cognitoAdminResetUserPassword(ctx context.Context, body []byte) (any, error) {
	var in poolUserIn
	if err := in.decode(body); err != nil {
		return nil, err
	}
	return nil, s.UserPools.AdminResetUserPassword(ctx, in.UserPoolID, in.Username)
}

// listUserPoolCodes is Behalf's own ListUserPoolCodes (root key only):
// the code messages of a user kept in the local outbox, for `behalf user
// codes`. The Cognito API never serves them.
func (s *Server) listUserPoolCodes(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	if s.UserPools == nil {
		return 0, nil, behalf.Errorf(behalf.ENOTFOUND, "This server has no user pools.")
	}
	var in struct {
		UserPoolID string `json:"userPoolId"`
		Username   string `json:"username"`
	}
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	if in.UserPoolID == "" || in.Username == "" {
		return 0, nil, behalf.Invalid("userPoolId", "userPoolId and username are required.")
	}
	ms, err := s.UserPools.UserCodeMessages(ctx, in.UserPoolID, in.Username)
	if err != nil {
		return 0, nil, err
	}
	type item struct {
		Purpose     string `json:"purpose"`
		Medium      string `json:"medium"`
		Destination string `json:"destination"`
		Subject     string `json:"subject,omitempty"`
		Body        string `json:"body"`
		CreatedTime epoch  `json:"createdTime"`
		ExpiresTime epoch  `json:"expiresTime"`
	}
	out := []item{}
	for _, m := range ms {
		out = append(out, item{m.Purpose, m.Medium, m.Destination, m.Subject, m.Body.Reveal(), epoch(m.CreatedAt), epoch(m.ExpiresAt)})
	}
	return http.StatusOK, map[string]any{"messages": out}, nil
}
