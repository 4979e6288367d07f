package api

import (
	"context"
	"net/http"

	"github.com/behalf-dev/behalf"
)

// workloadBindingOut is SetWorkloadBinding's answer (never the secret).
type workloadBindingOut struct {
	Name            string `json:"workloadName"`
	Issuer          string `json:"issuer,omitempty"`
	ClientID        string `json:"clientId,omitempty"`
	HasClientSecret bool   `json:"hasClientSecret"`
	RedirectURL     string `json:"redirectUrl,omitempty"`
	BindURL         string `json:"bindUrl"`
	SignInCallback  string `json:"signInCallbackUrl"`
	LastUpdatedTime epoch  `json:"lastUpdatedTime"`
}

// setWorkloadBinding: POST /behalf/SetWorkloadBinding (root only) sets a
// workload's inbound identity provider for Behalf's binding page.
func (s *Server) setWorkloadBinding(ctx context.Context, req *http.Request, body []byte) (int, any, error) {
	var in struct {
		Workload     string `json:"workloadName"`
		Issuer       string `json:"issuer"`
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
		RedirectURL  string `json:"redirectUrl"`
	}
	if err := decode(body, &in); err != nil {
		return 0, nil, err
	}
	if s.Bindings == nil {
		return 0, nil, behalf.Errorf(behalf.EINVALID, "This server does not serve SetWorkloadBinding.")
	}
	w, err := s.Bindings.SetWorkloadBinding(ctx, behalf.WorkloadBindingInput{
		WorkloadName: in.Workload, Issuer: in.Issuer, ClientID: in.ClientID,
		ClientSecret: behalf.Secret(in.ClientSecret), RedirectURL: in.RedirectURL,
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, workloadBindingOut{
		Name: w.Name, Issuer: w.Inbound.Issuer, ClientID: w.Inbound.ClientID, HasClientSecret: len(w.Inbound.ClientSecret) > 0,
		RedirectURL: w.Inbound.BindRedirectURL, BindURL: s.PublicURL + behalf.BindPath,
		SignInCallback: s.PublicURL + behalf.SignInCallbackPath, LastUpdatedTime: epoch(w.UpdatedAt),
	}, nil
}
