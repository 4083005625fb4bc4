package dev.verity.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.DecodingException;
import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.cbor.Cbor;
import dev.verity.core.cbor.CborValue;
import java.util.Map;
import java.util.Optional;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** The optional "job" field of a receipt: the ledger job that paid for the inference. */
class ReceiptJobFieldTest {
  private static final ModelManifest MANIFEST = Fixtures.manifest();
  private static final Hash JOB = Hash.tagged("verity/job", new byte[] {1, 2, 3});

  private static InferenceReceipt paid(Hash job) {
    return InferenceReceipt.sign(Fixtures.NODE, "req-0001", MANIFEST, Fixtures.inputs().cid(), Fixtures.outputs().cid(),
        VerificationMode.RECEIPT, Fixtures.noEvidence(), Fixtures.PROVENANCE, Fixtures.STARTED, Fixtures.FINISHED,
        Optional.of(job));
  }

  @Test
  void aPaidReceiptNamesItsJobAndVerifies() throws VerificationException {
    InferenceReceipt r = InferenceReceipt.decode(paid(JOB).encode());
    assertEquals(Optional.of(JOB), r.job());
    ReceiptVerifier.create().verify(r, MANIFEST, Fixtures.inputs(), Fixtures.outputs());
    assertArrayEqualsBytes(paid(JOB).encode(), r.encode());
  }

  @Test
  void aReceiptWithoutAJobIsUnchangedByTheField() {
    InferenceReceipt unpaid = Fixtures.receipt(MANIFEST);
    assertEquals(Optional.empty(), unpaid.job());
    assertFalse(Cbor.decodeMap(unpaid.encode()).has("job"), "an unpaid receipt has no job field at all");
    assertNotEquals(unpaid.cid(), paid(JOB).cid());
  }

  @Test
  void rejectsReceiptWithChangedJob() {
    byte[] other = Fixtures.withField(paid(JOB).encode(), "job", new CborValue.Bytes(Hash.of(new byte[] {9}).toBytes()));
    InferenceReceipt r = InferenceReceipt.decode(other);
    assertThrows(VerificationException.class, r::verifySignature);
  }

  @Test
  void rejectsReceiptWithJobAddedAfterSigning() {
    byte[] added = Fixtures.withField(Fixtures.receipt(MANIFEST).encode(), "job", new CborValue.Bytes(JOB.toBytes()));
    InferenceReceipt r = InferenceReceipt.decode(added);
    assertThrows(VerificationException.class, r::verifySignature);
  }

  @Test
  void rejectsJobsThatAreNot32Bytes() {
    for (int n : new int[] {0, 31, 33}) {
      byte[] bad = Fixtures.resigned(paid(JOB).encode(), InferenceReceipt.DOMAIN,
          Map.of("job", new CborValue.Bytes(new byte[n])), Fixtures.NODE);
      assertThrows(DecodingException.class, () -> InferenceReceipt.decode(bad), n + " bytes");
    }
    byte[] text = Fixtures.resigned(paid(JOB).encode(), InferenceReceipt.DOMAIN,
        Map.of("job", new CborValue.Text(JOB.toHex())), Fixtures.NODE);
    assertThrows(DecodingException.class, () -> InferenceReceipt.decode(text));
  }

  @Property(tries = 100)
  void anyJobRoundTripsAndIsCoveredByTheSignature(@ForAll @Size(32) byte[] job) throws VerificationException {
    InferenceReceipt r = paid(Hash.wrap(job));
    InferenceReceipt back = InferenceReceipt.decode(r.encode());
    back.verifySignature();
    assertEquals(Hash.wrap(job), back.job().orElseThrow());
    assertTrue(back.equals(r));
  }

  private static void assertArrayEqualsBytes(byte[] a, byte[] b) {
    assertTrue(java.util.Arrays.equals(a, b), "encodings differ");
  }
}
