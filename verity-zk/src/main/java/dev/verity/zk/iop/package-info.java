/**
 * Interactive-proof building blocks made non-interactive with a SHA-256 Fiat-Shamir transcript:
 * multilinear extensions, the sum-check protocol and the GKR fraction-sum argument behind logUp
 * lookups.
 */
package dev.verity.zk.iop;
