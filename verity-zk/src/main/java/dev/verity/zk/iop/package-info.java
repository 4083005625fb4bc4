/**
 * Interactive-proof building blocks made non-interactive with a SHA-256 Fiat-Shamir transcript:
 * multilinear extensions, masked polynomials, and the plain and zero-knowledge sum-check
 * protocols.
 */
package dev.verity.zk.iop;
