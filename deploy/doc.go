// Package deploy holds Behalf's deployment files and the tests that check
// them offline:
//
//   - kubernetes/: a Deployment of several replicas on one PostgreSQL, its
//     Service, PodDisruptionBudget, kustomization and an example Secret;
//     decoded strictly into the Kubernetes API types and checked for what
//     Behalf needs (probes on /healthz and /readyz, a postgres:// database
//     from the Secret, no secret inline, a hardened pod);
//   - systemd/behalf.service: a hardened unit, parsed and checked, and
//     verified with systemd-analyze where it is installed;
//   - ko/: the container image built without Docker (ko on a base made
//     locally, written to an OCI tarball by ko/build.sh); TestImageTarball
//     checks such a tarball when BEHALF_IMAGE_TARBALL names one.
package deploy
