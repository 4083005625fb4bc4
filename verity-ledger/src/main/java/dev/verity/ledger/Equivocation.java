package dev.verity.ledger;

import dev.verity.core.DecodingException;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import dev.verity.core.crypto.PublicKey;
import java.util.Set;

/**
 * Evidence that the sequencer signed two different headers at the same height: it showed two
 * histories. Anyone holding both headers can present it; {@link #verify(PublicKey)} needs only the
 * sequencer's key. Encoded as {@code {"first": header, "second": header}}.
 */
public record Equivocation(BlockHeader first, BlockHeader second) {
  public Equivocation {
    java.util.Objects.requireNonNull(first, "first header");
    java.util.Objects.requireNonNull(second, "second header");
  }

  /**
   * Checks that both headers are signed by {@code sequencer}, are for the same chain and height,
   * and differ.
   *
   * @throws VerificationException if this is not proof of equivocation by {@code sequencer}
   */
  public void verify(PublicKey sequencer) throws VerificationException {
    if (first.height() != second.height()) {
      throw new VerificationException("headers are at heights " + first.height() + " and "
          + second.height() + "; equivocation needs the same height");
    }
    if (!first.chainId().equals(second.chainId())) {
      throw new VerificationException("headers are for different chains");
    }
    if (first.hash().equals(second.hash())) {
      throw new VerificationException("both headers are the same header");
    }
    first.verifySignature(sequencer);
    second.verifySignature(sequencer);
  }

  public byte[] encode() {
    return Cbor.encode(CborValue.Map.builder()
        .put("first", first.toCbor())
        .put("second", second.toCbor())
        .build());
  }

  public static Equivocation decode(byte[] bytes) {
    CborValue.Map m = Cbor.decodeMap(bytes);
    m.requireOnly(Set.of("first", "second"));
    BlockHeader a = BlockHeader.fromCbor(m.getMap("first"));
    BlockHeader b = BlockHeader.fromCbor(m.getMap("second"));
    if (a.equals(b)) {
      throw new DecodingException("equivocation evidence names one header twice");
    }
    return new Equivocation(a, b);
  }
}
