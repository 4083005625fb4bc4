package dev.verity.ledger;

import dev.verity.core.VerificationException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.PublicKey;
import dev.verity.core.merkle.MerkleProof;
import dev.verity.core.merkle.MerkleTree;
import java.util.Objects;
import java.util.Set;

/**
 * Evidence that a receipt was committed for a job in block {@code header.height()}: the receipt
 * leaf ({@code {job, receipt}}), its RFC 6962 inclusion path to the header's receipts root, and the
 * signed header. Encoded as {@code {"header", "entry", "path"}}.
 */
public record ReceiptProof(BlockHeader header, Action.CommitReceipts.Entry entry, MerkleProof path) {
  public ReceiptProof {
    Objects.requireNonNull(header, "header");
    Objects.requireNonNull(entry, "entry");
    Objects.requireNonNull(path, "path");
  }

  /**
   * Checks the header's signature and the receipt's inclusion under its receipts root.
   *
   * @throws VerificationException if either does not check out
   */
  public void verify(PublicKey sequencer) throws VerificationException {
    header.verifySignature(sequencer);
    verifyInclusion();
  }

  /**
   * Checks only the inclusion under the header's receipts root, for callers that have already
   * checked this header's signature.
   */
  public void verifyInclusion() throws VerificationException {
    if (path.treeSize() != header.receiptCount()) {
      throw new VerificationException("receipt proof is for a tree of " + path.treeSize()
          + " receipts; block " + header.height() + " commits " + header.receiptCount());
    }
    try {
      MerkleTree.verifyInclusion(header.receiptsRoot(), entry.leaf(), path);
    } catch (VerificationException e) {
      throw new VerificationException("receipt " + entry.receipt() + " is not in block "
          + header.height() + ": " + e.getMessage(), e);
    }
  }

  public byte[] encode() {
    return Cbor.encode(CborValue.Map.builder()
        .put("header", header.toCbor())
        .put("entry", entry.toCbor())
        .put("path", path.toCbor())
        .build());
  }

  public static ReceiptProof decode(byte[] bytes) {
    CborValue.Map m = Cbor.decodeMap(bytes);
    m.requireOnly(Set.of("header", "entry", "path"));
    return new ReceiptProof(
        BlockHeader.fromCbor(m.getMap("header")),
        Action.CommitReceipts.Entry.fromCbor(m.get("entry")),
        MerkleProof.fromCbor(m.getMap("path")));
  }
}
