package dev.verity.ledger;

import dev.verity.core.Hash;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The authenticated map behind the state root: a compact sparse Merkle tree over 256-bit paths
 * ({@link StateKey#path()}), immutable and persistent (an update copies only the paths it touches,
 * so every earlier tree stays valid and readable from any thread).
 *
 * <p><b>Shape.</b> Conceptually a binary tree of depth 256 in which almost every subtree is empty.
 * Only non-empty subtrees are stored, and a subtree that holds exactly one entry is represented by
 * that entry's leaf, placed where the subtree starts. So the tree's shape depends only on the set
 * of paths, never on the order of updates: the same entries always give the same root.
 *
 * <ul>
 *   <li>empty subtree: 32 zero bytes
 *   <li>leaf: SHA-256(0x00 || path || SHA-256(value)), value = canonical encoding of the entry
 *   <li>branch: SHA-256(0x01 || left || right); bit {@code d} of the path picks the side at depth
 *       {@code d} (most significant bit of byte 0 first; 0 = left)
 * </ul>
 *
 * <p><b>Cost.</b> With n entries at random paths a leaf sits at depth about log2(n). A batch
 * update of k entries rebuilds and rehashes only the union of their paths: O(k log n) hashes, and
 * a lookup or proof walks one path: O(log n).
 *
 * <p><b>Proofs.</b> See {@link StateProof}: the sibling hashes from the root down to where the
 * path ends (at a leaf or an empty subtree).
 */
final class StateTree {
  static final byte[] EMPTY_HASH = new byte[Hash.LENGTH];
  static final int MAX_DEPTH = 256;

  /** A node: a leaf or a branch. An empty subtree is {@code null}. */
  sealed interface Node permits Leaf, Branch {
    byte[] hash();

    int size();
  }

  /** One entry: its path, its decoded value and the bytes committed to. */
  static final class Leaf implements Node {
    final byte[] path;
    final StateRecord record;
    final byte[] valueHash;
    private final byte[] hash;

    Leaf(byte[] path, StateRecord record, byte[] value, MessageDigest d) {
      this.path = path;
      this.record = record;
      this.valueHash = d.digest(value);
      this.hash = leafHash(path, valueHash, d);
    }

    @Override
    public byte[] hash() {
      return hash;
    }

    @Override
    public int size() {
      return 1;
    }
  }

  /** Two subtrees, either of which may be empty (but not both; and not one leaf beside nothing). */
  static final class Branch implements Node {
    final Node left;
    final Node right;
    private final byte[] hash;
    private final int size;

    Branch(Node left, Node right, MessageDigest d) {
      this.left = left;
      this.right = right;
      this.hash = branchHash(hashOf(left), hashOf(right), d);
      this.size = (left == null ? 0 : left.size()) + (right == null ? 0 : right.size());
    }

    @Override
    public byte[] hash() {
      return hash;
    }

    @Override
    public int size() {
      return size;
    }
  }

  private static final StateTree EMPTY = new StateTree(null);

  private final Node root;

  private StateTree(Node root) {
    this.root = root;
  }

  static StateTree empty() {
    return EMPTY;
  }

  Hash rootHash() {
    return Hash.wrap(hashOf(root));
  }

  int size() {
    return root == null ? 0 : root.size();
  }

  static byte[] hashOf(Node n) {
    return n == null ? EMPTY_HASH : n.hash();
  }

  static byte[] leafHash(byte[] path, byte[] valueHash, MessageDigest d) {
    d.update((byte) 0);
    d.update(path);
    d.update(valueHash);
    return d.digest();
  }

  static byte[] branchHash(byte[] left, byte[] right, MessageDigest d) {
    d.update((byte) 1);
    d.update(left);
    d.update(right);
    return d.digest();
  }

  static int bit(byte[] path, int depth) {
    return (path[depth >>> 3] >>> (7 - (depth & 7))) & 1;
  }

  /** The entry at {@code path}, or {@code null}. */
  StateRecord get(byte[] path) {
    Node n = root;
    int depth = 0;
    while (n instanceof Branch b) {
      n = bit(path, depth++) == 0 ? b.left : b.right;
    }
    return n instanceof Leaf l && Arrays.equals(l.path, path) ? l.record : null;
  }

  /**
   * A new tree with these entries set (added or replaced); this tree is unchanged. Entries are
   * never removed: the ledger's history only grows.
   */
  StateTree with(Map<StateKey, StateRecord> updates) {
    if (updates.isEmpty()) {
      return this;
    }
    MessageDigest d = Hash.newDigest();
    Leaf[] leaves = new Leaf[updates.size()];
    int i = 0;
    for (Map.Entry<StateKey, StateRecord> e : updates.entrySet()) {
      if (e.getValue().kind() != e.getKey().kind()) {
        throw new IllegalArgumentException(
            "a " + e.getValue().kind() + " entry cannot live under key " + e.getKey());
      }
      leaves[i++] = new Leaf(e.getKey().path().toBytes(), e.getValue(), e.getValue().encode(), d);
    }
    Arrays.sort(leaves, (a, b) -> Arrays.compareUnsigned(a.path, b.path));
    return new StateTree(put(root, 0, leaves, 0, leaves.length, d));
  }

  /** Builds a tree from leaves in ascending path order (as {@link #forEach} yields them). */
  static StateTree ofSorted(List<Leaf> sorted) {
    Leaf[] leaves = sorted.toArray(new Leaf[0]);
    for (int i = 1; i < leaves.length; i++) {
      if (Arrays.compareUnsigned(leaves[i - 1].path, leaves[i].path) >= 0) {
        throw new IllegalArgumentException("state entries out of order or repeated at " + i);
      }
    }
    return new StateTree(build(leaves, 0, leaves.length, 0, Hash.newDigest()));
  }

  private static Node put(Node node, int depth, Leaf[] items, int from, int to, MessageDigest d) {
    if (from == to) {
      return node;
    }
    if (node == null) {
      return build(items, from, to, depth, d);
    }
    if (node instanceof Leaf leaf) {
      int at = indexOf(items, from, to, leaf.path);
      if (at >= 0) {
        return build(items, from, to, depth, d); // the old leaf is replaced
      }
      // Keep the old leaf beside the new ones.
      int insert = -at - 1;
      Leaf[] merged = new Leaf[to - from + 1];
      System.arraycopy(items, from, merged, 0, insert - from);
      merged[insert - from] = leaf;
      System.arraycopy(items, insert, merged, insert - from + 1, to - insert);
      return build(merged, 0, merged.length, depth, d);
    }
    Branch b = (Branch) node;
    int mid = split(items, from, to, depth);
    Node left = put(b.left, depth + 1, items, from, mid, d);
    Node right = put(b.right, depth + 1, items, mid, to, d);
    return left == b.left && right == b.right ? b : new Branch(left, right, d);
  }

  private static Node build(Leaf[] items, int from, int to, int depth, MessageDigest d) {
    int n = to - from;
    if (n == 0) {
      return null;
    }
    if (n == 1) {
      return items[from];
    }
    if (depth >= MAX_DEPTH) {
      throw new IllegalStateException("two state entries share a 256-bit path");
    }
    int mid = split(items, from, to, depth);
    return new Branch(
        build(items, from, mid, depth + 1, d), build(items, mid, to, depth + 1, d), d);
  }

  /** First index in [from, to) whose path has bit {@code depth} set; items are sorted. */
  private static int split(Leaf[] items, int from, int to, int depth) {
    int lo = from;
    int hi = to;
    while (lo < hi) {
      int m = (lo + hi) >>> 1;
      if (bit(items[m].path, depth) == 0) {
        lo = m + 1;
      } else {
        hi = m;
      }
    }
    return lo;
  }

  private static int indexOf(Leaf[] items, int from, int to, byte[] path) {
    int lo = from;
    int hi = to - 1;
    while (lo <= hi) {
      int m = (lo + hi) >>> 1;
      int c = Arrays.compareUnsigned(items[m].path, path);
      if (c < 0) {
        lo = m + 1;
      } else if (c > 0) {
        hi = m - 1;
      } else {
        return m;
      }
    }
    return -(lo + 1);
  }

  /** The proof for {@code key}: membership if present, non-membership otherwise. */
  StateProof prove(StateKey key) {
    byte[] path = key.path().toBytes();
    List<Hash> siblings = new ArrayList<>();
    Node n = root;
    int depth = 0;
    while (n instanceof Branch b) {
      if (bit(path, depth++) == 0) {
        siblings.add(Hash.wrap(hashOf(b.right)));
        n = b.left;
      } else {
        siblings.add(Hash.wrap(hashOf(b.left)));
        n = b.right;
      }
    }
    if (n instanceof Leaf l) {
      if (Arrays.equals(l.path, path)) {
        return StateProof.membership(key, l.record.encode(), siblings);
      }
      return StateProof.nonMembership(key, siblings, Hash.wrap(l.path), Hash.wrap(l.valueHash));
    }
    return StateProof.nonMembership(key, siblings, null, null);
  }

  /** Visits every leaf in ascending path order. */
  void forEach(Consumer<Leaf> visitor) {
    visit(root, visitor);
  }

  private static void visit(Node n, Consumer<Leaf> visitor) {
    if (n instanceof Leaf l) {
      visitor.accept(l);
    } else if (n instanceof Branch b) {
      visit(b.left, visitor);
      visit(b.right, visitor);
    }
  }
}
