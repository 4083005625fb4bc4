/** The Goldilocks prime field, its quadratic extension and the number-theoretic transform. */
package dev.verity.zk.field;
