package dev.verity.ledger;

import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.PublicKey;
import dev.verity.core.merkle.MerkleTree;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A signed header and the transactions it orders. Only transactions the state machine accepted are
 * in a block. Canonical encoding: {@code {"header": signed header, "txs": [signed transaction]}}.
 */
public record Block(BlockHeader header, List<SignedTransaction> transactions) {
  /** Most transactions one block may hold. */
  public static final int MAX_TRANSACTIONS = 100_000;

  public Block {
    Objects.requireNonNull(header, "header");
    transactions = List.copyOf(transactions);
    if (transactions.size() > MAX_TRANSACTIONS) {
      throw new DecodingException("a block holds at most " + MAX_TRANSACTIONS + " transactions");
    }
    if (header.txCount() != transactions.size()) {
      throw new DecodingException("header announces " + header.txCount() + " transactions, block has "
          + transactions.size());
    }
  }

  public long height() {
    return header.height();
  }

  /** The RFC 6962 root over the encoded signed transactions. */
  public static Hash transactionsRoot(List<SignedTransaction> txs) {
    List<byte[]> leaves = new ArrayList<>(txs.size());
    for (SignedTransaction t : txs) {
      leaves.add(t.encode());
    }
    return MerkleTree.ofLeaves(leaves).root();
  }

  /** The receipt leaves the block's transactions commit, in order. */
  public List<byte[]> receiptLeaves() {
    List<byte[]> leaves = new ArrayList<>();
    for (SignedTransaction t : transactions) {
      if (t.tx().action() instanceof Action.CommitReceipts c) {
        for (Action.CommitReceipts.Entry e : c.receipts()) {
          leaves.add(e.leaf());
        }
      }
    }
    return leaves;
  }

  /**
   * Checks the header signature and that the header's transaction and receipts roots match the
   * transactions. (The state root can only be checked by executing the block.)
   *
   * @throws VerificationException if any of them does not match
   */
  public void verify(PublicKey sequencer) throws VerificationException {
    header.verifySignature(sequencer);
    Hash txRoot = transactionsRoot(transactions);
    if (!txRoot.equals(header.txRoot())) {
      throw new VerificationException("block " + height() + " transactions hash to " + txRoot
          + ", header says " + header.txRoot());
    }
    List<byte[]> leaves = receiptLeaves();
    Hash receipts = MerkleTree.ofLeaves(leaves).root();
    if (!receipts.equals(header.receiptsRoot()) || leaves.size() != header.receiptCount()) {
      throw new VerificationException("block " + height() + " has " + leaves.size() + " receipts hashing to "
          + receipts + ", header says " + header.receiptCount() + " under " + header.receiptsRoot());
    }
  }

  public CborValue.Map toCbor() {
    return CborValue.Map.builder()
        .put("header", header.toCbor())
        .put("txs", Fields.array(transactions, SignedTransaction::toCbor))
        .build();
  }

  public byte[] encode() {
    return Cbor.encode(toCbor());
  }

  public static Block decode(byte[] bytes) {
    CborValue.Map m = Cbor.decodeMap(bytes);
    m.requireOnly(Set.of("header", "txs"));
    return new Block(
        BlockHeader.fromCbor(m.getMap("header")),
        Fields.list(m, "txs", MAX_TRANSACTIONS,
            v -> SignedTransaction.fromCbor(Fields.map(v, "transaction"))));
  }
}
