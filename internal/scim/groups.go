package scim

import (
	"net/http"

	"github.com/provisioning-dev/scim-operator/internal/directory"
)

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	p, err := s.listParamsFromQuery(r)
	if err != nil {
		writeError(w, err)
		return
	}
	s.answerGroups(w, r, p)
}

func (s *Server) answerGroups(w http.ResponseWriter, r *http.Request, p listParams) {
	page, err := s.store.ListGroups(r.Context(), directory.Query{
		Filter: p.filter, SortBy: p.sortBy, SortOrder: p.sortOrder, StartIndex: p.startIndex, Count: p.count,
		WithMembers: s.groupSet.wants(p.attrs, p.excluded, "members"),
	})
	if err != nil {
		writeError(w, err)
		return
	}
	base := s.baseURL(r)
	writeList(w, page.Total, page.StartIndex, len(page.Resources), func(b []byte, i int) ([]byte, error) {
		body, err := s.groupSet.selectAttributes(renderGroup(&page.Resources[i], base), p.attrs, p.excluded)
		return append(b, body...), err
	})
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) {
	g, err := s.groupFromRequest(r)
	if err != nil {
		writeError(w, err)
		return
	}
	created, err := s.store.CreateGroup(r.Context(), g)
	if err != nil {
		writeError(w, err)
		return
	}
	s.writeGroup(w, r, http.StatusCreated, created)
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, id string) {
	attrs, excluded, err := s.attrSelection(queryParams(r.URL.RawQuery))
	if err != nil {
		writeError(w, err)
		return
	}
	g, err := s.store.GetGroup(r.Context(), id, s.groupSet.wants(attrs, excluded, "members"))
	if err != nil {
		writeError(w, err)
		return
	}
	if answerNotModified(w, r, g.Meta.ETag()) {
		return
	}
	s.writeGroup(w, r, http.StatusOK, g)
}

func (s *Server) replaceGroup(w http.ResponseWriter, r *http.Request, id string) {
	g, err := s.groupFromRequest(r)
	if err != nil {
		writeError(w, err)
		return
	}
	replaced, err := s.store.ReplaceGroup(r.Context(), id, g, writeConditions(r)...)
	if err != nil {
		writeError(w, err)
		return
	}
	s.writeGroup(w, r, http.StatusOK, replaced)
}

// patchGroup applies membership and rename operations in the store and answers 204, as Okta
// expects; the members are not read back.
func (s *Server) patchGroup(w http.ResponseWriter, r *http.Request, id string) {
	ops, err := s.patchFromRequest(r)
	if err != nil {
		writeError(w, err)
		return
	}
	gops, err := s.groupSet.groupOps(ops)
	if err != nil {
		writeError(w, err)
		return
	}
	g, err := s.store.PatchGroup(r.Context(), id, gops, writeConditions(r)...)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("ETag", g.Meta.ETag())
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, id string) {
	if err := s.store.DeleteGroup(r.Context(), id, writeConditions(r)...); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) groupFromRequest(r *http.Request) (directory.Group, error) {
	obj, err := readObject(r)
	if err != nil {
		return directory.Group{}, err
	}
	d, err := s.groupSet.normalize(obj)
	if err != nil {
		return directory.Group{}, err
	}
	return groupFromDocument(d)
}

func (s *Server) writeGroup(w http.ResponseWriter, r *http.Request, status int, g *directory.Group) {
	base := s.baseURL(r)
	attrs, excluded, err := s.attrSelection(queryParams(r.URL.RawQuery))
	if err != nil {
		writeError(w, err)
		return
	}
	body, err := s.groupSet.selectAttributes(renderGroup(g, base), attrs, excluded)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("ETag", g.Meta.ETag())
	if status == http.StatusCreated {
		w.Header().Set("Location", base+"/Groups/"+g.ID)
	}
	writeRaw(w, status, body)
}
