package identity

import "github.com/behalf-dev/behalf"

// listOptions validates a page request (behalf.PageRequest.Options) in the
// AgentCore API's words.
func listOptions(p behalf.PageRequest, max int) (behalf.ListOptions, int, error) {
	o, limit, err := p.Options(max)
	return o, limit, behalf.InvalidPage(err, max)
}
