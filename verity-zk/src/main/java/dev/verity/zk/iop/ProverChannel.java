package dev.verity.zk.iop;

import dev.verity.zk.field.Ext;
import java.util.Arrays;

/**
 * The prover's side of a Fiat-Shamir proof: every message is appended to the proof bytes and
 * absorbed into the transcript, and challenges come from that transcript. The proof is the
 * concatenation of the messages in protocol order (field elements as 8-byte little-endian
 * canonical words, extension elements as two words, digests and salts as raw bytes); which
 * messages appear, and how many, is fixed by the public statement, so no lengths are written.
 */
public final class ProverChannel {
  private final Transcript transcript;
  private byte[] out = new byte[1 << 12];
  private int size;

  public ProverChannel(Transcript transcript) {
    this.transcript = transcript;
  }

  public Transcript transcript() {
    return transcript;
  }

  private void ensure(int extra) {
    if (size + extra > out.length) {
      out = Arrays.copyOf(out, Math.max(out.length * 2, size + extra));
    }
  }

  private void putWord(long x) {
    ensure(8);
    for (int i = 0; i < 8; i++) {
      out[size + i] = (byte) (x >>> (8 * i));
    }
    transcript.absorbFixed(out, size, 8);
    size += 8;
  }

  /** Sends a base-field element. */
  public void send(long element) {
    putWord(element);
  }

  public void send(Ext e) {
    putWord(e.c0());
    putWord(e.c1());
  }

  /** Sends extension elements stored interleaved (c0, c1, c0, c1, ...). */
  public void sendInterleaved(long[] interleaved, int from, int count) {
    ensure(16 * count);
    for (int i = 2 * from; i < 2 * (from + count); i++) {
      long x = interleaved[i];
      for (int b = 0; b < 8; b++) {
        out[size + b] = (byte) (x >>> (8 * b));
      }
      size += 8;
    }
    transcript.absorbFixed(out, size - 16 * count, 16 * count);
  }

  /** Sends base-field elements. */
  public void sendBase(long[] elements, int from, int count) {
    ensure(8 * count);
    for (int i = from; i < from + count; i++) {
      long x = elements[i];
      for (int b = 0; b < 8; b++) {
        out[size + b] = (byte) (x >>> (8 * b));
      }
      size += 8;
    }
    transcript.absorbFixed(out, size - 8 * count, 8 * count);
  }

  /** Sends raw bytes of a length both sides know (digests, salts). */
  public void sendBytes(byte[] data) {
    ensure(data.length);
    System.arraycopy(data, 0, out, size, data.length);
    transcript.absorbFixed(out, size, data.length);
    size += data.length;
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

  /** The proof bytes written so far. */
  public byte[] toBytes() {
    return Arrays.copyOf(out, size);
  }

  public int size() {
    return size;
  }
}
