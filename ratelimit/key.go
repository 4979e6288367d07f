package ratelimit

import (
	"net/http"
	"time"

	"github.com/behalf-dev/behalf"
)

// Authenticator checks a request's signature over its body (api and
// agentruntime each declare this interface).
type Authenticator interface {
	Verify(r *http.Request, body []byte) (behalf.Principal, error)
}

// KeyLimit is an Authenticator that rate-limits each access key: once Next
// has verified a request, the request takes a token from its key's bucket,
// or is refused with behalf.ETHROTTLED and a Retry-After, which the APIs
// answer in their own shapes: 429 ThrottlingException for AgentCore and
// the invocation gateway, 400 TooManyRequestsException for cognito-idp
// (as Cognito does). Only verified requests count, so no one
// can spend another key's budget without its secret.
type KeyLimit struct {
	Next    Authenticator
	Limiter *Limiter
	// Exempt, when set, lets the principals it accepts through unlimited
	// (behalf serve exempts the root key unless --rate-limit-root).
	Exempt func(behalf.Principal) bool
	// OnLimit, when set, is called for each refused request (metrics).
	OnLimit func(r *http.Request)
}

// Verify implements Authenticator.
func (k *KeyLimit) Verify(r *http.Request, body []byte) (behalf.Principal, error) {
	p, err := k.Next.Verify(r, body)
	if err != nil || (k.Exempt != nil && k.Exempt(p)) {
		return p, err
	}
	if ok, wait := k.Limiter.Allow(p.AccessKeyID); !ok {
		if k.OnLimit != nil {
			k.OnLimit(r)
		}
		return behalf.Principal{}, &behalf.Error{Code: behalf.ETHROTTLED, Message: "Rate exceeded.",
			Retry: time.Duration(retryAfterSeconds(wait)) * time.Second}
	}
	return p, nil
}
