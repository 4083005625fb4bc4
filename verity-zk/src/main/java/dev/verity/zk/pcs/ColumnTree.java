package dev.verity.zk.pcs;

import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.zk.iop.Parallel;
import dev.verity.zk.iop.ProverChannel;
import dev.verity.zk.iop.VerifierChannel;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * A binary SHA-256 Merkle tree over a power-of-two number of leaf digests, with batched openings.
 * Leaf digests are SHA-256(0x00, leaf bytes) and inner nodes SHA-256(0x01, left, right), so a leaf
 * can never be confused with a node. An opening of a sorted set of distinct leaves carries exactly
 * the sibling digests that cannot be recomputed from the opened leaves, level by level from the
 * leaves up, left to right; both sides derive that list from the index set alone.
 */
final class ColumnTree {
  static final int DIGEST = 32;
  private final int logLeaves;
  /** levels[0] holds the leaf digests; levels[logLeaves] the root. */
  private final byte[][] levels;

  private ColumnTree(int logLeaves, byte[][] levels) {
    this.logLeaves = logLeaves;
    this.levels = levels;
  }

  /** Builds the tree over leaf digests (32 bytes each, concatenated). */
  static ColumnTree build(byte[] leafDigests) {
    int n = leafDigests.length / DIGEST;
    int logN = Integer.numberOfTrailingZeros(n);
    if (Integer.bitCount(n) != 1 || leafDigests.length != n * DIGEST) {
      throw new IllegalArgumentException("a column tree needs a power-of-two number of leaves");
    }
    byte[][] levels = new byte[logN + 1][];
    levels[0] = leafDigests;
    for (int l = 1; l <= logN; l++) {
      byte[] below = levels[l - 1];
      int size = n >> l;
      byte[] level = new byte[size * DIGEST];
      Parallel.forRange(
          size,
          (c, from, to) -> {
            MessageDigest d = Hash.newDigest();
            for (int i = from; i < to; i++) {
              hashNode(d, below, 2 * i, level, i);
            }
          });
      levels[l] = level;
    }
    return new ColumnTree(logN, levels);
  }

  private static void hashNode(MessageDigest d, byte[] below, int left, byte[] out, int at) {
    d.update((byte) 1);
    d.update(below, left * DIGEST, 2 * DIGEST);
    try {
      d.digest(out, at * DIGEST, DIGEST);
    } catch (java.security.DigestException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The digest of one leaf's bytes. */
  static void hashLeaf(MessageDigest d, byte[] leaf, int length, byte[] out, int at) {
    d.update((byte) 0);
    d.update(leaf, 0, length);
    try {
      d.digest(out, at * DIGEST, DIGEST);
    } catch (java.security.DigestException e) {
      throw new IllegalStateException(e);
    }
  }

  byte[] root() {
    return Arrays.copyOf(levels[logLeaves], DIGEST);
  }

  /** Sends the sibling digests that open the given sorted distinct leaves. */
  void open(ProverChannel ch, int[] sortedLeaves) {
    int[] known = sortedLeaves.clone();
    int count = known.length;
    byte[] node = new byte[DIGEST];
    for (int l = 0; l < logLeaves; l++) {
      int next = 0;
      for (int i = 0; i < count; i++) {
        int idx = known[i];
        int sibling = idx ^ 1;
        boolean siblingKnown = (idx & 1) == 0 && i + 1 < count && known[i + 1] == sibling;
        if (!siblingKnown) {
          System.arraycopy(levels[l], sibling * DIGEST, node, 0, DIGEST);
          ch.sendBytes(node);
        } else {
          i++;
        }
        known[next++] = idx >> 1;
      }
      count = next;
    }
  }

  /**
   * Recomputes the root from the opened leaves' digests (in the order of sortedLeaves) and the
   * sibling digests read from the proof, and compares it with the committed root.
   */
  static void verify(
      VerifierChannel ch, int logLeaves, int[] sortedLeaves, byte[] leafDigests, byte[] root)
      throws VerificationException {
    int count = sortedLeaves.length;
    int[] known = sortedLeaves.clone();
    byte[] digests = leafDigests.clone();
    MessageDigest d = Hash.newDigest();
    byte[] pair = new byte[2 * DIGEST];
    byte[] nodeOut = new byte[DIGEST];
    for (int l = 0; l < logLeaves; l++) {
      int next = 0;
      byte[] nextDigests = new byte[count * DIGEST];
      for (int i = 0; i < count; i++) {
        int idx = known[i];
        int sibling = idx ^ 1;
        boolean siblingKnown = (idx & 1) == 0 && i + 1 < count && known[i + 1] == sibling;
        byte[] siblingDigest;
        if (siblingKnown) {
          siblingDigest = Arrays.copyOfRange(digests, (i + 1) * DIGEST, (i + 2) * DIGEST);
        } else {
          siblingDigest = ch.receiveBytes(DIGEST);
        }
        if ((idx & 1) == 0) {
          System.arraycopy(digests, i * DIGEST, pair, 0, DIGEST);
          System.arraycopy(siblingDigest, 0, pair, DIGEST, DIGEST);
        } else {
          System.arraycopy(siblingDigest, 0, pair, 0, DIGEST);
          System.arraycopy(digests, i * DIGEST, pair, DIGEST, DIGEST);
        }
        hashNode(d, pair, 0, nodeOut, 0);
        System.arraycopy(nodeOut, 0, nextDigests, next * DIGEST, DIGEST);
        known[next++] = idx >> 1;
        if (siblingKnown) {
          i++;
        }
      }
      count = next;
      digests = nextDigests;
    }
    if (count != 1 || !MessageDigest.isEqual(Arrays.copyOf(digests, DIGEST), root)) {
      throw new VerificationException("opened columns do not match the committed Merkle root");
    }
  }
}
