# The scim-operator image: the manager (/manager) and the per-agency SCIM server
# (/scim-server) in one distroless image, running as the nonroot user.
#
#   make docker-build IMG=registry.example.org/platform/scim-operator:0.1.0
#
# BASE_IMAGE can point at a mirror of the Go image, e.g. BASE_IMAGE=mirror.example.org/golang:1.26.
ARG BASE_IMAGE=golang:1.26
FROM ${BASE_IMAGE} AS builder
ARG TARGETOS
ARG TARGETARCH

WORKDIR /workspace
# Download the modules in their own layer, so that source changes reuse it.
COPY go.mod go.sum ./
RUN go mod download

# The sources (.dockerignore keeps only Go files, embedded SQL migrations and the module files).
COPY . .

# Static binaries for the platform being built (TARGETOS/TARGETARCH come from buildx; plain
# `docker build` builds for the host).
ENV CGO_ENABLED=0
RUN GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} go build -trimpath -ldflags "-s -w" -o /out/manager ./cmd \
 && GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} go build -trimpath -ldflags "-s -w" -o /out/scim-server ./cmd/scim-server

FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /out/manager /out/scim-server /
USER 65532:65532
ENTRYPOINT ["/manager"]
