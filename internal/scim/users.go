package scim

import (
	"net/http"

	"github.com/provisioning-dev/scim-operator/internal/directory"
)

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	p, err := s.listParamsFromQuery(r)
	if err != nil {
		writeError(w, err)
		return
	}
	s.answerUsers(w, r, p)
}

func (s *Server) answerUsers(w http.ResponseWriter, r *http.Request, p listParams) {
	page, err := s.store.ListUsers(r.Context(), directory.Query{
		Filter: p.filter, SortBy: p.sortBy, SortOrder: p.sortOrder, StartIndex: p.startIndex, Count: p.count,
		WithMembers: s.users.wants(p.attrs, p.excluded, "groups"),
	})
	if err != nil {
		writeError(w, err)
		return
	}
	base := s.baseURL(r)
	add := func(b []byte, i int) ([]byte, error) {
		return s.appendUser(b, &page.Resources[i], base), nil
	}
	if len(p.attrs) > 0 || len(p.excluded) > 0 {
		add = func(b []byte, i int) ([]byte, error) {
			body, err := s.users.selectAttributes(s.renderUser(&page.Resources[i], base), p.attrs, p.excluded)
			return append(b, body...), err
		}
	}
	writeList(w, page.Total, page.StartIndex, len(page.Resources), add)
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.userFromRequest(r)
	if err != nil {
		writeError(w, err)
		return
	}
	created, err := s.store.CreateUser(r.Context(), u)
	if err != nil {
		writeError(w, err)
		return
	}
	s.writeUser(w, r, http.StatusCreated, created)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, id string) {
	u, err := s.store.GetUser(r.Context(), id)
	if err != nil {
		writeError(w, err)
		return
	}
	if answerNotModified(w, r, u.Meta.ETag()) {
		return
	}
	s.writeUser(w, r, http.StatusOK, u)
}

func (s *Server) replaceUser(w http.ResponseWriter, r *http.Request, id string) {
	u, err := s.userFromRequest(r)
	if err != nil {
		writeError(w, err)
		return
	}
	replaced, err := s.store.ReplaceUser(r.Context(), id, u, writeConditions(r)...)
	if err != nil {
		writeError(w, err)
		return
	}
	s.writeUser(w, r, http.StatusOK, replaced)
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request, id string) {
	ops, err := s.patchFromRequest(r)
	if err != nil {
		writeError(w, err)
		return
	}
	base := s.baseURL(r)
	patched, err := s.store.PatchUser(r.Context(), id, func(u *directory.User) error {
		d, err := s.userDocument(u, base)
		if err != nil {
			return err
		}
		if err := s.users.applyPatch(d, ops); err != nil {
			return err
		}
		next, err := s.userFromDocument(d)
		if err != nil {
			return err
		}
		next.ID, next.Meta, next.Groups = u.ID, u.Meta, u.Groups
		*u = next
		return nil
	}, writeConditions(r)...)
	if err != nil {
		writeError(w, err)
		return
	}
	s.writeUser(w, r, http.StatusOK, patched)
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, id string) {
	u, err := s.store.DeactivateUser(r.Context(), id, writeConditions(r)...)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("ETag", u.Meta.ETag())
	w.WriteHeader(http.StatusNoContent)
}

// userFromRequest reads a POST or PUT body into a user; read-only and unknown attributes
// are ignored.
func (s *Server) userFromRequest(r *http.Request) (directory.User, error) {
	obj, err := readObject(r)
	if err != nil {
		return directory.User{}, err
	}
	d, err := s.users.normalize(obj)
	if err != nil {
		return directory.User{}, err
	}
	if err := s.users.checkOnePrimary(d); err != nil {
		return directory.User{}, err
	}
	return s.userFromDocument(d)
}

// writeUser answers with one user, its ETag and, for 201, its Location.
func (s *Server) writeUser(w http.ResponseWriter, r *http.Request, status int, u *directory.User) {
	base := s.baseURL(r)
	attrs, excluded, err := s.attrSelection(queryParams(r.URL.RawQuery))
	if err != nil {
		writeError(w, err)
		return
	}
	body, err := s.users.selectAttributes(s.renderUser(u, base), attrs, excluded)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("ETag", u.Meta.ETag())
	if status == http.StatusCreated {
		w.Header().Set("Location", base+"/Users/"+u.ID)
	}
	writeRaw(w, status, body)
}
