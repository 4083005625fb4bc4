package dev.verity.zk.iop;

import dev.verity.core.VerificationException;
import dev.verity.zk.field.Ext;
import dev.verity.zk.field.Goldilocks;

/**
 * The verifier's side of a Fiat-Shamir proof: reads the prover's messages from the proof bytes in
 * protocol order, absorbing each into the transcript exactly as the prover did. Reading is strict:
 * a field element that is not canonical, or a proof that ends early, is rejected, and {@link
 * #finish()} rejects trailing bytes, so each valid proof has exactly one encoding.
 */
public final class VerifierChannel {
  private final Transcript transcript;
  private final byte[] in;
  private int pos;

  public VerifierChannel(Transcript transcript, byte[] proof, int offset) {
    this.transcript = transcript;
    this.in = proof;
    this.pos = offset;
  }

  public Transcript transcript() {
    return transcript;
  }

  private void need(int n) throws VerificationException {
    if (n < 0 || in.length - pos < n) {
      throw new VerificationException("proof is truncated at byte " + pos);
    }
  }

  private long word() throws VerificationException {
    need(8);
    long x = 0;
    for (int i = 7; i >= 0; i--) {
      x = (x << 8) | (in[pos + i] & 0xff);
    }
    if (!Goldilocks.isCanonical(x)) {
      throw new VerificationException("proof holds a non-canonical field element at byte " + pos);
    }
    transcript.absorbFixed(in, pos, 8);
    pos += 8;
    return x;
  }

  public long receiveBase() throws VerificationException {
    return word();
  }

  public Ext receive() throws VerificationException {
    long c0 = word();
    long c1 = word();
    return new Ext(c0, c1);
  }

  public Ext[] receive(int count) throws VerificationException {
    need(16 * count);
    Ext[] out = new Ext[count];
    for (int i = 0; i < count; i++) {
      out[i] = receive();
    }
    return out;
  }

  /** Reads extension elements into an interleaved array. */
  public long[] receiveInterleaved(int count) throws VerificationException {
    need(16 * count);
    long[] out = new long[2 * count];
    for (int i = 0; i < out.length; i++) {
      out[i] = word();
    }
    return out;
  }

  public long[] receiveBase(int count) throws VerificationException {
    need(8 * count);
    long[] out = new long[count];
    for (int i = 0; i < count; i++) {
      out[i] = word();
    }
    return out;
  }

  public byte[] receiveBytes(int length) throws VerificationException {
    need(length);
    byte[] out = new byte[length];
    System.arraycopy(in, pos, out, 0, length);
    transcript.absorbFixed(in, pos, length);
    pos += length;
    return out;
  }

  public Ext challenge(String label) {
    return transcript.challengeExt(label);
  }

  public Ext[] challenges(String label, int count) {
    return transcript.challengeExts(label, count);
  }

  public int[] indices(String label, int count, int bound) {
    return transcript.challengeIndices(label, count, bound);
  }

  public void label(String label) {
    transcript.absorbLabel(label);
  }

  /** Rejects a proof with bytes left after the last message. */
  public void finish() throws VerificationException {
    if (pos != in.length) {
      throw new VerificationException(
          "proof has " + (in.length - pos) + " unexpected bytes after its last message");
    }
  }
}
