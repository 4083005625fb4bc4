package dev.verity.protocol;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.PublicKey;
import dev.verity.core.crypto.Signer;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What a node signs for every inference: which request, which model version (model and manifest
 * CIDs), which inputs and outputs (CIDs of their canonical encodings), under which verification mode
 * with which evidence, where it ran (provenance) and when. The receipt is the product: everything a
 * client needs to check an output is reachable from it.
 *
 * <p>A receipt of a paid inference also names the ledger job that paid for it ({@link #job()}, an
 * optional field: receipts without it are unpaid and decode as before).
 *
 * <p>Decoding is strict and does not check the signature; {@link ReceiptVerifier} does the checking.
 */
public final class InferenceReceipt {
  public static final int FORMAT_VERSION = 1;
  static final String DOMAIN = "verity/receipt/v1";
  private static final Set<String> FIELDS =
      Set.of("v", "request", "model", "manifest", "inputs", "outputs", "mode", "evidence",
          "provenance", "started", "finished", "node", "job", Signing.SIGNATURE_FIELD);

  private final CborValue.Map body;
  private final byte[] signature;
  private final byte[] encoded;
  private final String requestId;
  private final Cid model;
  private final Cid manifest;
  private final Cid inputs;
  private final Cid outputs;
  private final VerificationMode mode;
  private final CborValue.Map evidence;
  private final Provenance provenance;
  private final long startedAtMillis;
  private final long finishedAtMillis;
  private final PublicKey node;
  private final Optional<Hash> job;

  /**
   * @param known keys already decoded and checked: when {@code signed} names one of them (byte for
   *     byte, as the key that just signed it or one the caller holds), that key is used instead of
   *     decoding and checking the same curve point again
   */
  private InferenceReceipt(CborValue.Map signed, Collection<PublicKey> known) {
    signed.requireOnly(FIELDS);
    long v = signed.getLong("v");
    if (v != FORMAT_VERSION) {
      throw new DecodingException("unsupported receipt format version " + v);
    }
    this.body = Signing.body(signed);
    this.signature = signed.getBytes(Signing.SIGNATURE_FIELD);
    this.encoded = Cbor.encode(signed);
    this.requestId = requestId(signed.getText("request"));
    this.model = Cid.fromBytes(signed.getBytes("model"));
    this.manifest = Cid.fromBytes(signed.getBytes("manifest"));
    this.inputs = Cid.fromBytes(signed.getBytes("inputs"));
    this.outputs = Cid.fromBytes(signed.getBytes("outputs"));
    this.mode = VerificationMode.fromWireName(signed.getText("mode"));
    this.evidence = signed.getMap("evidence");
    this.provenance = Provenance.fromCbor(signed.getMap("provenance"));
    this.startedAtMillis = signed.getLong("started");
    this.finishedAtMillis = signed.getLong("finished");
    if (startedAtMillis < 0 || finishedAtMillis < startedAtMillis) {
      throw new DecodingException("receipt times are inconsistent");
    }
    this.node = nodeKey(signed.getBytes("node"), known);
    this.job = signed.has("job") ? Optional.of(Hash.wrap(signed.getBytes("job"))) : Optional.empty();
  }

  private static PublicKey nodeKey(byte[] raw, Collection<PublicKey> known) {
    for (PublicKey k : known) {
      if (Arrays.equals(k.toBytes(), raw)) {
        return k;
      }
    }
    return PublicKey.fromBytes(raw);
  }

  static String requestId(String id) {
    if (id == null || id.isEmpty() || id.length() > 128 || !id.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw new DecodingException("request id must be 1-128 printable ASCII characters without spaces");
    }
    return id;
  }

  public static InferenceReceipt decode(byte[] bytes) {
    return new InferenceReceipt(Cbor.decodeMap(bytes), List.of());
  }

  /**
   * As {@link #decode(byte[])}, for a holder of node keys (a client with its pinned keys): when the
   * receipt names one of {@code knownKeys}, that key object is used rather than decoded again. The
   * result is the same receipt; checking it is still {@link ReceiptVerifier}'s work.
   */
  public static InferenceReceipt decode(byte[] bytes, Collection<PublicKey> knownKeys) {
    return new InferenceReceipt(Cbor.decodeMap(bytes), List.copyOf(knownKeys));
  }

  /** Creates and signs a receipt that names no ledger job (an unpaid inference). */
  public static InferenceReceipt sign(
      Signer node,
      String requestId,
      ModelManifest manifest,
      Cid inputs,
      Cid outputs,
      VerificationMode mode,
      CborValue.Map evidence,
      Provenance provenance,
      long startedAtMillis,
      long finishedAtMillis) {
    return sign(node, requestId, manifest, inputs, outputs, mode, evidence, provenance, startedAtMillis,
        finishedAtMillis, Optional.empty());
  }

  /**
   * Creates and signs a receipt; {@code job}, when present, is the id of the ledger job that paid
   * for this inference and becomes the optional {@code "job"} field.
   */
  public static InferenceReceipt sign(
      Signer node,
      String requestId,
      ModelManifest manifest,
      Cid inputs,
      Cid outputs,
      VerificationMode mode,
      CborValue.Map evidence,
      Provenance provenance,
      long startedAtMillis,
      long finishedAtMillis,
      Optional<Hash> job) {
    CborValue.Map.Builder b = CborValue.Map.builder()
        .put("v", FORMAT_VERSION)
        .put("request", requestId(requestId))
        .put("model", manifest.model().toBytes())
        .put("manifest", manifest.cid().toBytes())
        .put("inputs", inputs.toBytes())
        .put("outputs", outputs.toBytes())
        .put("mode", mode.wireName())
        .put("evidence", evidence)
        .put("provenance", provenance.toCbor())
        .put("started", startedAtMillis)
        .put("finished", finishedAtMillis)
        .put("node", node.publicKey().toBytes());
    job.ifPresent(j -> b.put("job", j.toBytes()));
    return new InferenceReceipt(Signing.sign(DOMAIN, b.build(), node), List.of(node.publicKey()));
  }

  /** Checks the node's signature over every other field. */
  public void verifySignature() throws VerificationException {
    Signing.verify(DOMAIN, body, signature, node);
  }

  public Cid cid() {
    return Cid.dagCbor(encoded);
  }

  public byte[] encode() {
    return encoded.clone();
  }

  public String requestId() { return requestId; }
  public Cid model() { return model; }
  public Cid manifest() { return manifest; }
  public Cid inputs() { return inputs; }
  public Cid outputs() { return outputs; }
  public VerificationMode mode() { return mode; }
  public CborValue.Map evidence() { return evidence; }
  public Provenance provenance() { return provenance; }
  public long startedAtMillis() { return startedAtMillis; }
  public long finishedAtMillis() { return finishedAtMillis; }
  public PublicKey node() { return node; }

  /**
   * The ledger job that paid for this inference, if the node ran it as a paid job. Covered by the
   * node's signature; whether the job was actually settled is checked on the ledger, not here.
   */
  public Optional<Hash> job() { return job; }

  @Override
  public boolean equals(Object o) {
    return o instanceof InferenceReceipt r && java.util.Arrays.equals(encoded, r.encoded);
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(encoded);
  }

  @Override
  public String toString() {
    return "InferenceReceipt[" + requestId + " " + cid() + "]";
  }
}
