package dev.verity.zk.pcs;

import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.zk.field.Ext;
import dev.verity.zk.field.Goldilocks;
import dev.verity.zk.field.Ntt;
import dev.verity.zk.iop.Mle;
import dev.verity.zk.iop.Parallel;
import dev.verity.zk.iop.ProverChannel;
import dev.verity.zk.iop.SumCheck;
import dev.verity.zk.iop.VerifierChannel;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;

/**
 * A transparent, hash-based commitment to a vector of field elements, opened as a multilinear
 * polynomial (the Ligero / Brakedown "tensor" construction with a Reed-Solomon code).
 *
 * <p><b>Commit.</b> The vector (2^vars entries, zero padded) is laid out as a matrix with 2^logCols
 * columns, row-major. Each used row is extended by {@code randomCoeffs} random coefficients and
 * Reed-Solomon encoded (polynomial evaluation on a subgroup of size 2^logCodeLength). The
 * commitment is the Merkle root over the encoded columns.
 *
 * <p><b>Open.</b> Any number of {@link LinearClaim}s (evaluations of aligned slices, or inner
 * products with explicit coefficients) are batched: for a random alpha the prover shows sum_x w(x)
 * E(x) = sum_i alpha^i v_i, where E holds the claims' weights scaled by alpha^i, by sum-check,
 * leaving one evaluation w~(rho). That is opened by sending u = eq(rho_row)^T M and, for
 * the proximity test, u' = gamma-combination of all rows; the verifier checks random columns of the
 * encoded matrix against the encodings of u and u'.
 *
 * <p><b>Hiding.</b> With {@code hiding}, the polynomial gets one more top variable whose upper half
 * is a uniformly random mask over the used rows. The batching sum-check binds that variable first,
 * so every later message (round polynomials, u, the final value) is a function of (1-r) w + r R,
 * which is uniform; one more committed random row, outside the polynomial, masks u'; the random
 * coefficients make the opened columns uniform (at most randomCoeffs columns are opened); leaves
 * are salted so unopened columns stay hidden. What remains visible is the first round polynomial,
 * which depends only on the batched claim (already known) and the mask.
 *
 * <p><b>Soundness.</b> With rate rho = (cols + randomCoeffs) / codeLength and unique-decoding
 * distance delta = (1 - rho) / 2, each opened column catches a cheating prover with probability
 * at least delta, so {@code queries} = ceil(100 / -log2(1 - delta)) gives 2^-100; the proximity
 * test's random combination adds rows * codeLength / |F_{p^2}|.
 */
public final class TensorCommitment {
  public static final int SECURITY_BITS = 100;
  public static final int SALT_BYTES = 16;
  private static final double MAX_RATE = 0.3;

  private TensorCommitment() {}

  /** The public shape of a commitment, a function of (vars, usedLength, hiding) alone. */
  public record Params(
      int vars, int usedLength, boolean hiding, int logCols, int randomCoeffs, int logCodeLength, int queries) {

    /** Chooses the matrix shape that minimises proof size at a bounded encoding cost. */
    public static Params choose(int vars, int usedLength, boolean hiding) {
      if (vars < 0 || vars > 28 || usedLength < 1 || usedLength > (1 << vars)) {
        throw new IllegalArgumentException(
            "cannot commit " + usedLength + " entries in a domain of 2^" + vars);
      }
      Params best = null;
      double bestCost = Double.MAX_VALUE;
      for (int logCols = 0; logCols <= vars; logCols++) {
        Params p = withCols(vars, usedLength, hiding, logCols);
        double cost = p.estimatedProofBytes() + (double) p.committedRows() * p.codeLength() / 4.0;
        if (cost < bestCost) {
          bestCost = cost;
          best = p;
        }
      }
      return best;
    }

    static Params withCols(int vars, int usedLength, boolean hiding, int logCols) {
      int k = 1 << logCols;
      int h = 0;
      int logN = 0;
      int t = 0;
      for (int iter = 0; iter < 16; iter++) {
        int msg = k + h;
        logN = 2;
        while ((double) msg / (1 << logN) > MAX_RATE) {
          logN++;
        }
        double rate = (double) msg / (1 << logN);
        double escape = 1 - (1 - rate) / 2;
        t = (int) Math.ceil(SECURITY_BITS / -(Math.log(escape) / Math.log(2)));
        int needed = hiding ? t : 0;
        if (needed <= h) {
          break;
        }
        h = needed;
      }
      return new Params(vars, usedLength, hiding, logCols, h, logN, t);
    }

    public int cols() {
      return 1 << logCols;
    }

    public int codeLength() {
      return 1 << logCodeLength;
    }

    public int messageLength() {
      return cols() + randomCoeffs;
    }

    /** Variables of the opened polynomial: vars, plus the mask variable when hiding. */
    public int totalVars() {
      return vars + (hiding ? 1 : 0);
    }

    /** Rows of the data part that hold entries (the rest are zero and not committed). */
    public int usedRows() {
      return (usedLength + cols() - 1) >>> logCols;
    }

    /** Index of the first mask row, when hiding. */
    int maskRowStart() {
      return 1 << (vars - logCols);
    }

    /**
     * Committed rows: the used data rows; when hiding, also the mask rows and one random row that
     * masks the proximity combination and is not part of the polynomial.
     */
    public int committedRows() {
      return hiding ? 2 * usedRows() + 1 : usedRows();
    }

    /** The logical row index of the i-th committed row, or -1 for the proximity mask row. */
    int rowIndex(int i) {
      int used = usedRows();
      if (i < used) {
        return i;
      }
      return i < 2 * used ? maskRowStart() + (i - used) : -1;
    }

    int leafBytes() {
      return 8 * committedRows() + (hiding ? SALT_BYTES : 0);
    }

    long estimatedProofBytes() {
      long u = 2L * messageLength() * 16;
      long cols = (long) queries * leafBytes();
      long paths = (long) queries * 32 * Math.max(1, logCodeLength - (31 - Integer.numberOfLeadingZeros(queries)));
      return u + cols + paths;
    }
  }

  /** The prover's view of a commitment: the data, its encoding and the Merkle tree. */
  public static final class Committed {
    private final Params params;
    private final long[] extended; // 2^totalVars entries: the data, then the mask half
    private final long[] coeffs; // committed rows x messageLength
    private final long[] codewords; // committed rows x codeLength
    private final byte[] salts;
    private final ColumnTree tree;

    private Committed(Params params, long[] extended, long[] coeffs, long[] codewords, byte[] salts, ColumnTree tree) {
      this.params = params;
      this.extended = extended;
      this.coeffs = coeffs;
      this.codewords = codewords;
      this.salts = salts;
      this.tree = tree;
    }

    public Params params() {
      return params;
    }

    public byte[] root() {
      return tree.root();
    }
  }

  /**
   * Commits to values (at most 2^vars of them). The random generator supplies code randomness,
   * masks and salts when hiding; it is not used otherwise, so a non-hiding commitment is a
   * deterministic function of the values.
   */
  public static Committed commit(long[] values, int vars, boolean hiding, Prg random) {
    Params p = Params.choose(vars, Math.max(1, values.length), hiding);
    int k = p.cols();
    int msgLen = p.messageLength();
    int n = p.codeLength();
    int rows = p.committedRows();
    long[] extended = new long[1 << p.totalVars()];
    System.arraycopy(values, 0, extended, 0, values.length);
    if (hiding) {
      int maskStart = p.maskRowStart() * k;
      for (int i = 0; i < p.usedRows() * k; i++) {
        extended[maskStart + i] = random.nextElement();
      }
    }
    long[] coeffs = new long[rows * msgLen];
    for (int i = 0; i < rows; i++) {
      int r = p.rowIndex(i);
      if (r >= 0) {
        System.arraycopy(extended, r * k, coeffs, i * msgLen, k);
      } else {
        for (int j = 0; j < k; j++) {
          coeffs[i * msgLen + j] = random.nextElement();
        }
      }
      for (int j = k; j < msgLen; j++) {
        coeffs[i * msgLen + j] = random.nextElement();
      }
    }
    long[] codewords = new long[rows * n];
    Parallel.forRange(
        rows,
        (c, from, to) -> {
          for (int i = from; i < to; i++) {
            System.arraycopy(coeffs, i * msgLen, codewords, i * n, msgLen);
            Ntt.forward(codewords, i * n, n);
          }
        });
    byte[] salts = new byte[hiding ? n * SALT_BYTES : 0];
    if (hiding) {
      random.nextBytes(salts);
    }
    byte[] leafDigests = new byte[n * ColumnTree.DIGEST];
    Parallel.forRange(
        n,
        (c, from, to) -> {
          MessageDigest d = Hash.newDigest();
          byte[] leaf = new byte[p.leafBytes()];
          for (int j = from; j < to; j++) {
            writeLeaf(p, codewords, salts, j, leaf);
            ColumnTree.hashLeaf(d, leaf, leaf.length, leafDigests, j);
          }
        });
    return new Committed(p, extended, coeffs, codewords, salts, ColumnTree.build(leafDigests));
  }

  private static void writeLeaf(Params p, long[] codewords, byte[] salts, int column, byte[] leaf) {
    int at = 0;
    if (p.hiding()) {
      System.arraycopy(salts, column * SALT_BYTES, leaf, 0, SALT_BYTES);
      at = SALT_BYTES;
    }
    int n = p.codeLength();
    for (int i = 0; i < p.committedRows(); i++) {
      long x = codewords[i * n + column];
      for (int b = 0; b < 8; b++) {
        leaf[at++] = (byte) (x >>> (8 * b));
      }
    }
  }

  /** E = sum_i alpha^i (the weights of claim i's linear function), over 2^totalVars entries. */
  private static long[] batchWeights(Params p, List<LinearClaim> claims, Ext alpha) {
    long[] e = new long[2 << p.totalVars()];
    Ext scale = Ext.ONE;
    for (LinearClaim c : claims) {
      for (LinearClaim.Part part : c.parts()) {
        int off = 2 * part.offset();
        switch (part) {
          case LinearClaim.Eval ev -> {
            long[] eq = Mle.eqTable(ev.point(), scale.mul(ev.coefficient()));
            for (int i = 0; i < eq.length; i++) {
              e[off + i] = Goldilocks.add(e[off + i], eq[i]);
            }
          }
          case LinearClaim.Dot dot -> {
            long[] co = dot.view();
            for (int i = 0; i < co.length / 2; i++) {
              Ext w = new Ext(co[2 * i], co[2 * i + 1]).mul(scale);
              e[off + 2 * i] = Goldilocks.add(e[off + 2 * i], w.c0());
              e[off + 2 * i + 1] = Goldilocks.add(e[off + 2 * i + 1], w.c1());
            }
          }
        }
      }
      scale = scale.mul(alpha);
    }
    return e;
  }

  /** E~(rho) for the same weights, in time linear in the claims' explicit coefficients. */
  private static Ext batchWeightsAt(List<LinearClaim> claims, Ext alpha, Ext[] rho) {
    Ext total = Ext.ZERO;
    Ext scale = Ext.ONE;
    for (LinearClaim c : claims) {
      Ext claimWeight = Ext.ZERO;
      for (LinearClaim.Part part : c.parts()) {
        int len = part.logLength();
        Ext select = Mle.eqAt(Arrays.copyOfRange(rho, len, rho.length), (long) part.offset() >>> len);
        Ext[] low = Arrays.copyOfRange(rho, 0, len);
        Ext local =
            switch (part) {
              case LinearClaim.Eval ev -> Mle.eq(ev.point(), low).mul(ev.coefficient());
              case LinearClaim.Dot dot -> {
                long[] eq = Mle.eqTable(low);
                long[] co = dot.view();
                long s0 = 0;
                long s1 = 0;
                for (int i = 0; i < co.length / 2; i++) {
                  s0 = Goldilocks.add(s0, Ext.mulC0(co[2 * i], co[2 * i + 1], eq[2 * i], eq[2 * i + 1]));
                  s1 = Goldilocks.add(s1, Ext.mulC1(co[2 * i], co[2 * i + 1], eq[2 * i], eq[2 * i + 1]));
                }
                yield new Ext(s0, s1);
              }
            };
        claimWeight = claimWeight.add(local.mul(select));
      }
      total = total.add(claimWeight.mul(scale));
      scale = scale.mul(alpha);
    }
    return total;
  }

  private static void checkClaims(Params p, List<LinearClaim> claims) {
    if (claims.isEmpty()) {
      throw new IllegalArgumentException("an opening needs at least one claim");
    }
    for (LinearClaim c : claims) {
      for (LinearClaim.Part part : c.parts()) {
        if (part.logLength() > p.vars() || part.offset() + (1L << part.logLength()) > (1L << p.vars())) {
          throw new IllegalArgumentException("claim slice lies outside the committed domain");
        }
      }
    }
  }

  /** Proves all claims (which must hold) against the commitment. */
  public static void open(ProverChannel ch, Committed c, List<LinearClaim> claims) {
    Params p = c.params;
    checkClaims(p, claims);
    ch.label("pcs-open");
    Ext alpha = ch.challenge("pcs-batch");
    long[] e = batchWeights(p, claims, alpha);
    long[] w = Mle.lift(c.extended, c.extended.length);
    Ext[] rho = SumCheck.proveProduct(ch, w, e, p.totalVars());
    int k = p.cols();
    int msgLen = p.messageLength();
    int rows = p.committedRows();
    Ext gamma = ch.challenge("pcs-proximity");
    Ext[] rowPoint = Arrays.copyOfRange(rho, p.logCols(), rho.length);
    long[] eqRows = Mle.eqTable(rowPoint);
    long[] up = new long[2 * msgLen];
    long[] ue = new long[2 * msgLen];
    Ext g = Ext.ONE;
    for (int i = 0; i < rows; i++) {
      int r = p.rowIndex(i);
      accumulateRow(up, c.coeffs, i * msgLen, msgLen, g);
      if (r >= 0) {
        accumulateRow(ue, c.coeffs, i * msgLen, msgLen, new Ext(eqRows[2 * r], eqRows[2 * r + 1]));
      }
      g = g.mul(gamma);
    }
    ch.sendInterleaved(up, 0, msgLen);
    ch.sendInterleaved(ue, 0, msgLen);
    int[] queries = distinctSorted(ch.indices("pcs-queries", p.queries(), p.codeLength()));
    int n = p.codeLength();
    long[] column = new long[rows];
    byte[] salt = new byte[SALT_BYTES];
    for (int j : queries) {
      for (int i = 0; i < rows; i++) {
        column[i] = c.codewords[i * n + j];
      }
      ch.sendBase(column, 0, rows);
      if (p.hiding()) {
        System.arraycopy(c.salts, j * SALT_BYTES, salt, 0, SALT_BYTES);
        ch.sendBytes(salt);
      }
    }
    c.tree.open(ch, queries);
  }

  private static void accumulateRow(long[] acc, long[] coeffs, int from, int len, Ext s) {
    long s0 = s.c0();
    long s1 = s.c1();
    for (int j = 0; j < len; j++) {
      long x = coeffs[from + j];
      acc[2 * j] = Goldilocks.add(acc[2 * j], Goldilocks.mul(x, s0));
      acc[2 * j + 1] = Goldilocks.add(acc[2 * j + 1], Goldilocks.mul(x, s1));
    }
  }

  static int[] distinctSorted(int[] indices) {
    return Arrays.stream(indices).sorted().distinct().toArray();
  }

  /**
   * Verifies that the committed vector satisfies every claim. Throws {@link VerificationException}
   * when the opening does not check out.
   */
  public static void verify(VerifierChannel ch, Params p, byte[] root, List<LinearClaim> claims)
      throws VerificationException {
    checkClaims(p, claims);
    ch.label("pcs-open");
    Ext alpha = ch.challenge("pcs-batch");
    Ext sum = Ext.ZERO;
    Ext scale = Ext.ONE;
    for (LinearClaim c : claims) {
      sum = sum.add(c.value().mul(scale));
      scale = scale.mul(alpha);
    }
    SumCheck.Reduction red = SumCheck.verify(ch, sum, p.totalVars(), 2);
    Ext[] rho = red.point();
    Ext eAtRho = batchWeightsAt(claims, alpha, rho);
    int k = p.cols();
    int msgLen = p.messageLength();
    int rows = p.committedRows();
    int n = p.codeLength();
    Ext gamma = ch.challenge("pcs-proximity");
    long[] up = ch.receiveInterleaved(msgLen);
    long[] ue = ch.receiveInterleaved(msgLen);
    // the opened evaluation: <u[0..k), eq(rho_col)>
    long[] eqCols = Mle.eqTable(Arrays.copyOfRange(rho, 0, p.logCols()));
    Ext value = Ext.ZERO;
    for (int j = 0; j < k; j++) {
      value =
          value.add(
              new Ext(ue[2 * j], ue[2 * j + 1]).mul(new Ext(eqCols[2 * j], eqCols[2 * j + 1])));
    }
    if (!value.mul(eAtRho).equals(red.value())) {
      throw new VerificationException("batched evaluation claims do not match the commitment opening");
    }
    long[][] encP = encodeExt(up, msgLen, n);
    long[][] encE = encodeExt(ue, msgLen, n);
    long[] eqRows = Mle.eqTable(Arrays.copyOfRange(rho, p.logCols(), rho.length));
    long[] rowWeightsE = new long[2 * rows];
    long[] rowWeightsP = new long[2 * rows];
    Ext g = Ext.ONE;
    for (int i = 0; i < rows; i++) {
      int r = p.rowIndex(i);
      if (r >= 0) {
        rowWeightsE[2 * i] = eqRows[2 * r];
        rowWeightsE[2 * i + 1] = eqRows[2 * r + 1];
      }
      rowWeightsP[2 * i] = g.c0();
      rowWeightsP[2 * i + 1] = g.c1();
      g = g.mul(gamma);
    }
    int[] queries = distinctSorted(ch.indices("pcs-queries", p.queries(), n));
    byte[] leafDigests = new byte[queries.length * ColumnTree.DIGEST];
    MessageDigest d = Hash.newDigest();
    byte[] leaf = new byte[p.leafBytes()];
    for (int q = 0; q < queries.length; q++) {
      int j = queries[q];
      long[] column = ch.receiveBase(rows);
      byte[] salt = p.hiding() ? ch.receiveBytes(SALT_BYTES) : new byte[0];
      checkColumn(column, rowWeightsP, encP, j, "proximity");
      checkColumn(column, rowWeightsE, encE, j, "evaluation");
      int at = 0;
      System.arraycopy(salt, 0, leaf, 0, salt.length);
      at += salt.length;
      for (long x : column) {
        for (int b = 0; b < 8; b++) {
          leaf[at++] = (byte) (x >>> (8 * b));
        }
      }
      ColumnTree.hashLeaf(d, leaf, leaf.length, leafDigests, q);
    }
    ColumnTree.verify(ch, p.logCodeLength(), queries, leafDigests, root);
  }

  private static void checkColumn(long[] column, long[] weights, long[][] encoded, int j, String test)
      throws VerificationException {
    long s0 = 0;
    long s1 = 0;
    for (int i = 0; i < column.length; i++) {
      s0 = Goldilocks.add(s0, Goldilocks.mul(column[i], weights[2 * i]));
      s1 = Goldilocks.add(s1, Goldilocks.mul(column[i], weights[2 * i + 1]));
    }
    if (s0 != encoded[0][j] || s1 != encoded[1][j]) {
      throw new VerificationException("column " + j + " fails the " + test + " test of the commitment");
    }
  }

  private static long[][] encodeExt(long[] interleaved, int msgLen, int n) {
    long[] a = new long[n];
    long[] b = new long[n];
    for (int j = 0; j < msgLen; j++) {
      a[j] = interleaved[2 * j];
      b[j] = interleaved[2 * j + 1];
    }
    Ntt.forward(a);
    Ntt.forward(b);
    return new long[][] {a, b};
  }
}
