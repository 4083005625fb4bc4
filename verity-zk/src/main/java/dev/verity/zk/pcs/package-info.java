/**
 * A transparent, hash-based polynomial commitment for multilinear polynomials (Reed-Solomon tensor
 * code with SHA-256 Merkle trees), with batched openings and an optional hiding mode.
 */
package dev.verity.zk.pcs;
