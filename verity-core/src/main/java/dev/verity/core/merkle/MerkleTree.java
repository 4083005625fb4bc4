package dev.verity.core.merkle;

import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * A binary Merkle tree over an ordered list of leaves, shaped as in RFC 6962 (Certificate
 * Transparency): leaf hash = SHA-256(0x00 || leaf), interior = SHA-256(0x01 || left || right), and a
 * list of n leaves splits at the largest power of two below n. The prefixes keep a leaf from being
 * passed off as an interior node. The root of no leaves is SHA-256 of the empty string.
 *
 * <p>Inclusion proofs are O(log n) hashes; {@link #verifyInclusion} needs only the root.
 */
public final class MerkleTree {
  private final List<Hash> leafHashes;
  private final Hash root;

  private MerkleTree(List<Hash> leafHashes) {
    this.leafHashes = List.copyOf(leafHashes);
    this.root = subtreeRoot(0, this.leafHashes.size());
  }

  /** A tree whose leaves are these byte strings. */
  public static MerkleTree ofLeaves(List<byte[]> leaves) {
    List<Hash> hashes = new ArrayList<>(leaves.size());
    for (byte[] leaf : leaves) {
      hashes.add(leafHash(leaf));
    }
    return new MerkleTree(hashes);
  }

  public Hash root() {
    return root;
  }

  public int size() {
    return leafHashes.size();
  }

  public static Hash leafHash(byte[] leaf) {
    MessageDigest d = Hash.newDigest();
    d.update((byte) 0);
    d.update(leaf);
    return Hash.fromDigest(d);
  }

  static Hash nodeHash(Hash left, Hash right) {
    MessageDigest d = Hash.newDigest();
    d.update((byte) 1);
    left.updateDigest(d);
    right.updateDigest(d);
    return Hash.fromDigest(d);
  }

  /** The audit path for leaf {@code index}, from the leaf's sibling up to the root's child. */
  public MerkleProof prove(int index) {
    if (index < 0 || index >= leafHashes.size()) {
      throw new IndexOutOfBoundsException("leaf " + index + " of " + leafHashes.size());
    }
    List<Hash> path = new ArrayList<>();
    collectPath(index, 0, leafHashes.size(), path);
    return new MerkleProof(index, leafHashes.size(), path);
  }

  private void collectPath(int index, int from, int to, List<Hash> path) {
    int n = to - from;
    if (n == 1) {
      return;
    }
    int k = largestPowerOfTwoBelow(n);
    if (index < from + k) {
      collectPath(index, from, from + k, path);
      path.add(subtreeRoot(from + k, to));
    } else {
      collectPath(index, from + k, to, path);
      path.add(subtreeRoot(from, from + k));
    }
  }

  private Hash subtreeRoot(int from, int to) {
    int n = to - from;
    if (n == 0) {
      return Hash.of(new byte[0]);
    }
    if (n == 1) {
      return leafHashes.get(from);
    }
    int k = largestPowerOfTwoBelow(n);
    return nodeHash(subtreeRoot(from, from + k), subtreeRoot(from + k, to));
  }

  static int largestPowerOfTwoBelow(int n) {
    return Integer.highestOneBit(n - 1);
  }

  /**
   * Checks that {@code leaf} is at {@code proof.index()} in a tree of {@code treeSize} leaves whose
   * root is {@code root}. Use this form whenever the tree size is known from a trusted source (a
   * signed tree head, a manifest): the root alone does not pin the size, and a proof for a tree of
   * one size can also fit some other sizes with the same shape along its path.
   *
   * @throws VerificationException if the proof is for another tree size, is malformed, or leads to
   *     another root
   */
  public static void verifyInclusion(Hash root, long treeSize, byte[] leaf, MerkleProof proof)
      throws VerificationException {
    if (proof.treeSize() != treeSize) {
      throw new VerificationException(
          "inclusion proof is for a tree of " + proof.treeSize() + " leaves, not " + treeSize);
    }
    verifyInclusion(root, leaf, proof);
  }

  /**
   * Checks that {@code leaf} is at {@code proof.index()} in a tree of {@code proof.treeSize()}
   * leaves whose root is {@code root}. The tree size is taken from the proof and is only as
   * trustworthy as the proof's source; see {@link #verifyInclusion(Hash, long, byte[], MerkleProof)}.
   *
   * @throws VerificationException if the proof is malformed or leads to another root
   */
  public static void verifyInclusion(Hash root, byte[] leaf, MerkleProof proof)
      throws VerificationException {
    long index = proof.index();
    long size = proof.treeSize();
    if (index < 0 || index >= size) {
      throw new VerificationException("proof index " + index + " outside tree of " + size);
    }
    Hash computed = rootFromPath(leafHash(leaf), index, size, proof.path(), proof.path().size());
    if (!computed.equals(root)) {
      throw new VerificationException("inclusion proof leads to " + computed + ", not root " + root);
    }
  }

  /** Recomputes the root by walking the path from the top (RFC 6962 section 2.1.1, recursively). */
  private static Hash rootFromPath(Hash leaf, long index, long size, List<Hash> path, int used)
      throws VerificationException {
    if (size == 1) {
      if (used != 0) {
        throw new VerificationException("inclusion proof has " + used + " extra hashes");
      }
      return leaf;
    }
    if (used == 0) {
      throw new VerificationException("inclusion proof is too short");
    }
    long k = Long.highestOneBit(size - 1);
    Hash sibling = path.get(used - 1);
    if (index < k) {
      return nodeHash(rootFromPath(leaf, index, k, path, used - 1), sibling);
    }
    return nodeHash(sibling, rootFromPath(leaf, index - k, size - k, path, used - 1));
  }
}
