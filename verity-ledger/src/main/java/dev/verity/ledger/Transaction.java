package dev.verity.ledger;

import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.PublicKey;
import dev.verity.core.crypto.Signer;
import java.util.Objects;
import java.util.Set;

/**
 * An unsigned transaction: who sends it (the public key whose signature it needs; the sender's
 * account is {@code Address.of(sender)}), for which chain, with which nonce and fee, doing what.
 *
 * <p>Canonical encoding (version 1): {@code {"v": 1, "chain": text, "from": key bytes, "nonce":
 * int, "fee": int, "action": map}}. The transaction's id is SHA-256 tagged "verity/tx" of that
 * encoding; the signature is Ed25519 over the 32 id bytes.
 *
 * @param chainId must equal the genesis chain id, so a transaction never replays on another chain
 * @param nonce must equal the number of transactions the sender has had committed
 * @param fee paid to the treasury; at least the genesis minimum
 */
public record Transaction(String chainId, PublicKey sender, long nonce, long fee, Action action) {
  public static final int VERSION = 1;

  public Transaction {
    if (chainId == null || chainId.isEmpty() || chainId.length() > GenesisConfig.MAX_CHAIN_ID_CHARS) {
      throw new DecodingException("chain id must be 1.." + GenesisConfig.MAX_CHAIN_ID_CHARS + " characters");
    }
    Objects.requireNonNull(sender, "sender");
    Objects.requireNonNull(action, "action");
    if (nonce < 0) {
      throw new DecodingException("nonce must not be negative, got " + nonce);
    }
    if (fee < 0) {
      throw new DecodingException("fee must not be negative, got " + fee);
    }
  }

  public Address senderAddress() {
    return sender.address();
  }

  public CborValue.Map toCbor() {
    return CborValue.Map.builder()
        .put("v", VERSION)
        .put("chain", chainId)
        .put("from", Fields.bytes(sender))
        .put("nonce", nonce)
        .put("fee", fee)
        .put("action", action.toCbor())
        .build();
  }

  public byte[] encode() {
    return Cbor.encode(toCbor());
  }

  public Hash id() {
    return idOf(encode());
  }

  static Hash idOf(byte[] encodedBody) {
    return Hash.tagged("verity/tx", encodedBody);
  }

  /** Signs with the sender's key. */
  public SignedTransaction sign(Signer signer) {
    if (!signer.publicKey().equals(sender)) {
      throw new IllegalArgumentException(
          "transaction from " + sender + " cannot be signed by " + signer.publicKey());
    }
    byte[] body = encode();
    Hash id = idOf(body);
    return new SignedTransaction(this, signer.sign(id.toBytes()), body, id);
  }

  static Transaction fromCbor(CborValue.Map m) {
    m.requireOnly(Set.of("v", "chain", "from", "nonce", "fee", "action"));
    long v = m.getLong("v");
    if (v != VERSION) {
      throw new DecodingException("unsupported transaction version " + v + "; this ledger reads " + VERSION);
    }
    return new Transaction(
        Fields.text(m, "chain", GenesisConfig.MAX_CHAIN_ID_CHARS),
        Fields.publicKey(m, "from"),
        m.getLong("nonce"),
        m.getLong("fee"),
        Action.fromCbor(m.getMap("action")));
  }
}
