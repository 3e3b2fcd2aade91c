package scim

import (
	"net/http"
	"strings"
)

// searchRequest is the body of POST /.search (RFC 7644 section 3.4.3).
type searchRequest struct {
	Attributes         []string `json:"attributes"`
	ExcludedAttributes []string `json:"excludedAttributes"`
	Filter             string   `json:"filter"`
	SortBy             string   `json:"sortBy"`
	SortOrder          string   `json:"sortOrder"`
	StartIndex         *int     `json:"startIndex"`
	Count              *int     `json:"count"`
}

func (s *Server) searchParams(r *http.Request) (listParams, error) {
	p := listParams{startIndex: 1, count: DefaultCount}
	body, err := readBody(r)
	if err != nil {
		return p, err
	}
	var req searchRequest
	if err := decodeObject(body, &req); err != nil {
		return p, err
	}
	if strings.TrimSpace(req.Filter) != "" {
		if p.filter, err = s.parseFilter(req.Filter); err != nil {
			return p, err
		}
	}
	if req.StartIndex != nil {
		p.startIndex = *req.StartIndex
	}
	if req.Count != nil {
		p.count = *req.Count
	}
	p.sortBy = req.SortBy
	if p.sortOrder, err = sortOrder(req.SortOrder); err != nil {
		return p, err
	}
	if p.attrs, err = s.attrList(req.Attributes); err != nil {
		return p, err
	}
	if p.excluded, err = s.attrList(req.ExcludedAttributes); err != nil {
		return p, err
	}
	p.clamp()
	return p, nil
}

func (s *Server) searchUsers(w http.ResponseWriter, r *http.Request) {
	p, err := s.searchParams(r)
	if err != nil {
		writeError(w, err)
		return
	}
	s.answerUsers(w, r, p)
}

func (s *Server) searchGroups(w http.ResponseWriter, r *http.Request) {
	p, err := s.searchParams(r)
	if err != nil {
		writeError(w, err)
		return
	}
	s.answerGroups(w, r, p)
}
