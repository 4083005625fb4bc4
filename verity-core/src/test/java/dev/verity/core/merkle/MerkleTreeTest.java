package dev.verity.core.merkle;

import static dev.verity.core.TestVectors.hex;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Roots and inclusion proofs against the Certificate Transparency reference vectors (the RFC 6962
 * test data of certificate-transparency and transparency-dev/merkle), and against every kind of
 * tampering for every leaf of every tree of 1 to 70 leaves.
 */
class MerkleTreeTest {
  private static final List<byte[]> CT_LEAVES =
      List.of(
          hex(""),
          hex("00"),
          hex("10"),
          hex("2021"),
          hex("3031"),
          hex("40414243"),
          hex("5051525354555657"),
          hex("606162636465666768696a6b6c6d6e6f"));

  /** Published roots of the trees made of the first 1..8 CT leaves. */
  private static final List<String> CT_ROOTS =
      List.of(
          "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
          "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
          "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
          "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
          "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
          "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
          "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
          "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");

  @Test
  void matchesTheCertificateTransparencyRoots() {
    for (int n = 1; n <= CT_LEAVES.size(); n++) {
      assertEquals(CT_ROOTS.get(n - 1), MerkleTree.ofLeaves(CT_LEAVES.subList(0, n)).root().toHex(), "size " + n);
    }
  }

  @Test
  void emptyTreeRootIsTheHashOfNothing() {
    assertEquals(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        MerkleTree.ofLeaves(List.of()).root().toHex());
    assertEquals(0, MerkleTree.ofLeaves(List.of()).size());
  }

  private record PublishedProof(int index, int size, List<String> path) {}

  /** transparency-dev/merkle proof/verify_test.go, leaf numbers there are 1-based. */
  private static final List<PublishedProof> CT_PROOFS =
      List.of(
          new PublishedProof(0, 1, List.of()),
          new PublishedProof(
              0,
              8,
              List.of(
                  "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                  "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                  "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")),
          new PublishedProof(
              5,
              8,
              List.of(
                  "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                  "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")),
          new PublishedProof(
              2, 3, List.of("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
          new PublishedProof(
              1,
              5,
              List.of(
                  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                  "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                  "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")));

  @Test
  void producesAndAcceptsTheCertificateTransparencyProofs() throws VerificationException {
    for (PublishedProof p : CT_PROOFS) {
      MerkleTree tree = MerkleTree.ofLeaves(CT_LEAVES.subList(0, p.size()));
      MerkleProof proof = tree.prove(p.index());
      assertEquals(p.path(), proof.path().stream().map(Hash::toHex).toList(), p.toString());
      MerkleProof published =
          new MerkleProof(p.index(), p.size(), p.path().stream().map(Hash::fromHex).toList());
      MerkleTree.verifyInclusion(
          Hash.fromHex(CT_ROOTS.get(p.size() - 1)), p.size(), CT_LEAVES.get(p.index()), published);
    }
  }

  private static List<byte[]> leaves(int n) {
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(("chunk-" + i).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }
    return out;
  }

  private static Hash flipBit(Hash h, int bit) {
    byte[] b = h.toBytes();
    b[bit / 8] ^= (byte) (1 << (bit % 8));
    return Hash.wrap(b);
  }

  private static void rejects(Hash root, long size, byte[] leaf, MerkleProof proof, String what) {
    assertThrows(
        VerificationException.class,
        () -> MerkleTree.verifyInclusion(root, size, leaf, proof),
        () -> what + " for " + proof);
  }

  @Test
  void everyProofOfEveryTreeUpTo70LeavesVerifiesAndEveryTamperingIsCaught() {
    Hash someHash = Hash.of(new byte[] {42});
    int verified = 0;
    for (int n = 1; n <= 70; n++) {
      List<byte[]> leaves = leaves(n);
      MerkleTree tree = MerkleTree.ofLeaves(leaves);
      Hash root = tree.root();
      assertEquals(n, tree.size());
      for (int i = 0; i < n; i++) {
        MerkleProof proof = tree.prove(i);
        byte[] leaf = leaves.get(i);
        assertDoesNotThrow(() -> MerkleTree.verifyInclusion(root, leaf, proof));
        assertDoesNotThrow(() -> MerkleTree.verifyInclusion(root, proof.treeSize(), leaf, proof));
        verified++;
        List<Hash> path = proof.path();

        rejects(root, n, "chunk-x".getBytes(), proof, "another leaf");
        rejects(root, n, java.util.Arrays.copyOf(leaf, leaf.length + 1), proof, "extended leaf");
        rejects(flipBit(root, i % 256), n, leaf, proof, "another root");
        // Neighbours, mirror positions and the ends: every way the direction bits can change.
        for (int j : new int[] {i - 1, i + 1, i ^ 1, i ^ 2, i ^ 4, n - 1 - i, 0, n - 1}) {
          if (j != i && j >= 0 && j < n) {
            rejects(root, n, leaf, new MerkleProof(j, n, path), "index " + j);
          }
        }
        for (long s : new long[] {n - 1, n + 1, n + 2, 2L * n, n / 2, i + 1, 1L << 40}) {
          if (s != n && s > i) {
            MerkleProof otherSize = new MerkleProof(i, s, path);
            rejects(root, n, leaf, otherSize, "claimed size " + s);
          }
        }
        for (int k = 0; k < path.size(); k++) {
          List<Hash> changed = new ArrayList<>(path);
          changed.set(k, flipBit(path.get(k), (7 * k + i) % 256));
          rejects(root, n, leaf, new MerkleProof(i, n, changed), "path hash " + k);
        }
        if (!path.isEmpty()) {
          rejects(root, n, leaf, new MerkleProof(i, n, path.subList(0, path.size() - 1)), "dropped top");
          rejects(root, n, leaf, new MerkleProof(i, n, path.subList(1, path.size())), "dropped bottom");
        }
        List<Hash> longer = new ArrayList<>(path);
        longer.add(someHash);
        rejects(root, n, leaf, new MerkleProof(i, n, longer), "appended hash");
        List<Hash> prefixed = new ArrayList<>(path);
        prefixed.add(0, someHash);
        rejects(root, n, leaf, new MerkleProof(i, n, prefixed), "prepended hash");
        List<Hash> withRoot = new ArrayList<>(path);
        withRoot.add(root);
        rejects(root, n, leaf, new MerkleProof(i, n, withRoot), "appended root");
      }
    }
    assertEquals(70 * 71 / 2, verified);
  }

  /**
   * Without a trusted size, a proof fits every size that gives its leaf the same path shape: the
   * proof for leaf 0 of 5 also "proves" leaf 0 of 6. This is why callers that know the size must
   * pass it; and a claimed size that changes the path length fails even without it.
   */
  @Test
  void onlyATrustedSizePinsTheTreeSize() throws VerificationException {
    MerkleTree five = MerkleTree.ofLeaves(leaves(5));
    MerkleProof proof = five.prove(0);
    MerkleProof claimsSix = new MerkleProof(0, 6, proof.path());
    MerkleTree.verifyInclusion(five.root(), leaves(5).get(0), claimsSix);
    VerificationException e =
        assertThrows(
            VerificationException.class,
            () -> MerkleTree.verifyInclusion(five.root(), 5, leaves(5).get(0), claimsSix));
    assertTrue(e.getMessage().contains("not 5"), e.getMessage());

    for (long claimed : new long[] {2, 4, 10, 16, 1L << 40}) {
      MerkleProof other = new MerkleProof(0, claimed, proof.path());
      assertThrows(
          VerificationException.class,
          () -> MerkleTree.verifyInclusion(five.root(), leaves(5).get(0), other),
          "size " + claimed);
    }
  }

  @Test
  void refusesToProveLeavesOutsideTheTree() {
    MerkleTree tree = MerkleTree.ofLeaves(leaves(3));
    assertThrows(IndexOutOfBoundsException.class, () -> tree.prove(-1));
    assertThrows(IndexOutOfBoundsException.class, () -> tree.prove(3));
    assertThrows(IndexOutOfBoundsException.class, () -> MerkleTree.ofLeaves(List.of()).prove(0));
  }

  @Test
  void leafAndNodeHashesAreDomainSeparated() {
    // A two-leaf tree's root must differ from the leaf hash of the concatenated child hashes.
    MerkleTree two = MerkleTree.ofLeaves(leaves(2));
    byte[] concatenated = new byte[64];
    System.arraycopy(MerkleTree.leafHash(leaves(2).get(0)).toBytes(), 0, concatenated, 0, 32);
    System.arraycopy(MerkleTree.leafHash(leaves(2).get(1)).toBytes(), 0, concatenated, 32, 32);
    assertTrue(!two.root().equals(MerkleTree.leafHash(concatenated)));
    assertEquals(CT_ROOTS.get(0), MerkleTree.leafHash(new byte[0]).toHex());
  }

  @Test
  void proofsRejectImpossiblePositions() {
    List<Hash> none = List.of();
    assertThrows(DecodingException.class, () -> new MerkleProof(0, 0, none));
    assertThrows(DecodingException.class, () -> new MerkleProof(-1, 5, none));
    assertThrows(DecodingException.class, () -> new MerkleProof(5, 5, none));
    assertThrows(DecodingException.class, () -> new MerkleProof(0, -3, none));
    List<Hash> tooLong = java.util.Collections.nCopies(MerkleProof.MAX_DEPTH + 1, Hash.of(new byte[0]));
    assertThrows(DecodingException.class, () -> new MerkleProof(0, Long.MAX_VALUE, tooLong));
  }
}
