package oidcop

import (
	"slices"
	"strconv"

	"github.com/behalf-dev/behalf"
)

// checkResources checks the RFC 8707 resource parameters of an
// authorization or token request: at most behalf.MaxResources, each an
// absolute URI without a fragment (behalf.ValidResource). Repeated values
// count once. Errors are invalid_target.
func checkResources(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		if !behalf.ValidResource(v) {
			return nil, errInvalidTarget("Each resource must be an absolute URI without a fragment, at most " +
				strconv.Itoa(behalf.MaxResourceLength) + " bytes.")
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	if len(out) > behalf.MaxResources {
		return nil, errInvalidTarget("At most " + strconv.Itoa(behalf.MaxResources) + " resources.")
	}
	return out, nil
}

// grantedResources returns the aud of the tokens of a code: the
// resources of the token request, each of which the authorization
// request must have named (RFC 8707 §2.2), or, without any, all the
// authorization request's.
func grantedResources(authorized, asked []string) ([]string, error) {
	asked, err := checkResources(asked)
	if err != nil {
		return nil, err
	}
	if len(asked) == 0 {
		return authorized, nil
	}
	for _, r := range asked {
		if !slices.Contains(authorized, r) {
			return nil, errInvalidTarget("A resource was not named by the authorization request.")
		}
	}
	return asked, nil
}
