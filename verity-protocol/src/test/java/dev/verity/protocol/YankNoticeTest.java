package dev.verity.protocol;

import static dev.verity.protocol.Fixtures.DELEGATE;
import static dev.verity.protocol.Fixtures.OWNER;
import static dev.verity.protocol.Fixtures.STRANGER;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.DecodingException;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.CborValue;
import java.util.Arrays;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class YankNoticeTest {
  private static final ModelManifest OWNED = Fixtures.manifest();
  private static final ModelManifest DELEGATED = Fixtures.delegatedManifest();
  private static final long TIME = Fixtures.CREATED + 3 * Fixtures.DAY;

  @Test
  void ownerMayYankAndTheNoticeRoundTrips() throws VerificationException {
    YankNotice n = YankNotice.create(OWNER, OWNED, "leaks training data", TIME);
    n.verify(OWNED);
    YankNotice back = YankNotice.decode(n.encode());
    back.verify(OWNED);
    assertArrayEquals(n.encode(), back.encode());
    assertEquals(OWNED.cid(), back.manifest());
    assertEquals("leaks training data", back.reason());
    assertEquals(TIME, back.timeMillis());
    assertEquals(OWNER.publicKey(), back.signer());
  }

  @Test
  void delegateNamedInTheManifestMayYank() throws VerificationException {
    YankNotice.create(DELEGATE, DELEGATED, "superseded", TIME).verify(DELEGATED);
    YankNotice.create(OWNER, DELEGATED, "superseded", TIME).verify(DELEGATED);
  }

  @Test
  void strangerMayNotYank() {
    YankNotice n = YankNotice.create(STRANGER, OWNED, "griefing", TIME);
    assertTrue(assertThrows(VerificationException.class, () -> n.verify(OWNED)).getMessage().contains("only the owner"));
    YankNotice d = YankNotice.create(DELEGATE, OWNED, "no grant for this version", TIME);
    assertThrows(VerificationException.class, () -> d.verify(OWNED));
  }

  @Test
  void noticeForAnotherManifestDoesNotApply() {
    YankNotice n = YankNotice.create(OWNER, OWNED, "bad", TIME);
    ModelManifest other = Fixtures.builder().version("1.0.1").sign(OWNER);
    assertTrue(assertThrows(VerificationException.class, () -> n.verify(other)).getMessage().contains("another manifest"));
  }

  @Test
  void changedFieldsBreakTheSignature() {
    byte[] enc = YankNotice.create(OWNER, OWNED, "bad", TIME).encode();
    for (var change : Map.of(
        "reason", (CborValue) new CborValue.Text("good"),
        "time", new CborValue.Int(TIME + 1)).entrySet()) {
      YankNotice edited = YankNotice.decode(Fixtures.withField(enc, change.getKey(), change.getValue()));
      assertThrows(VerificationException.class, () -> edited.verify(OWNED), change.getKey());
    }
    YankNotice resignedByStranger = YankNotice.decode(Fixtures.withField(enc, "signer",
        new CborValue.Bytes(STRANGER.publicKey().toBytes())));
    assertThrows(VerificationException.class, () -> resignedByStranger.verify(OWNED));
    YankNotice.decode(Fixtures.resigned(enc, YankNotice.DOMAIN, Map.of(), OWNER));
    YankNotice receiptDomain = YankNotice.decode(Fixtures.resigned(enc, InferenceReceipt.DOMAIN, Map.of(), OWNER));
    assertThrows(VerificationException.class, () -> receiptDomain.verify(OWNED));
  }

  @Test
  void rejectsMalformedNotices() {
    byte[] enc = YankNotice.create(OWNER, OWNED, "bad", TIME).encode();
    for (int n = 0; n < enc.length; n++) {
      byte[] prefix = Arrays.copyOf(enc, n);
      assertThrows(DecodingException.class, () -> YankNotice.decode(prefix));
    }
    assertThrows(DecodingException.class, () -> YankNotice.decode(
        Fixtures.resigned(enc, YankNotice.DOMAIN, Map.of("extra", new CborValue.Int(1)), OWNER)));
    assertThrows(DecodingException.class, () -> YankNotice.decode(
        Fixtures.resigned(enc, YankNotice.DOMAIN, Map.of("reason", new CborValue.Text("r".repeat(1001))), OWNER)));
  }

  @Property(tries = 200)
  void mutatedNoticesDecodeOrAreRejected(@ForAll @IntRange(min = 0, max = 10_000) int position, @ForAll byte value) {
    byte[] enc = YankNotice.create(OWNER, OWNED, "bad", TIME).encode();
    int at = position % enc.length;
    if (enc[at] == value) {
      return;
    }
    enc[at] = value;
    YankNotice n;
    try {
      n = YankNotice.decode(enc);
    } catch (DecodingException refused) {
      return;
    }
    assertThrows(VerificationException.class, () -> n.verify(OWNED));
  }
}
