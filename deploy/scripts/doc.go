// Package scripts holds no Go code for the binary: it is the home of the
// development and CI shell scripts (install-deps.sh, services.sh), and its
// tests run those scripts for real.
package scripts
