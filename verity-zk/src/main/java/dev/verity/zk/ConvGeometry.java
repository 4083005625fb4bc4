package dev.verity.zk;

import dev.verity.zk.field.Ext;
import dev.verity.zk.field.Goldilocks;
import dev.verity.zk.iop.Mle;
import java.util.Arrays;
import java.util.List;

/**
 * Index arithmetic of a convolution in the padded layouts, shared by prover and verifier. The
 * kernel's domain is [co][ci][ky][kx] (kx lowest), each padded to a power of two; the wiring
 * relates output row oy and kernel row ky to input row y = oy * stride + ky - padding, present only
 * when oy < OH, ky < k and 0 <= y < H (the same for columns).
 */
final class ConvGeometry {
  private final Layer.Conv2d cv;
  private final Shape in;
  private final Shape out;
  private final int logK;

  ConvGeometry(Layer.Conv2d cv, Shape in, Shape out) {
    this.cv = cv;
    this.in = in;
    this.out = out;
    this.logK = Shape.log2Ceil(cv.kernel());
  }

  int kernelVars() {
    return 2 * logK + in.logChannels() + out.logChannels();
  }

  /** The output-channel coordinates of a point of the output's domain. */
  Ext[] channelPart(Ext[] outPoint) {
    return Arrays.copyOfRange(outPoint, out.logWidth() + out.logHeight(), outPoint.length);
  }

  /** sum over valid output rows and columns of eq(point, (oy, ox)): the bias's footprint. */
  Ext validFactor(Ext[] outPoint) {
    long[] ex = Mle.eqTable(Arrays.copyOfRange(outPoint, 0, out.logWidth()));
    long[] ey = Mle.eqTable(Arrays.copyOfRange(outPoint, out.logWidth(), out.logWidth() + out.logHeight()));
    return sum(ex, out.width()).mul(sum(ey, out.height()));
  }

  private static Ext sum(long[] t, int n) {
    long s0 = 0;
    long s1 = 0;
    for (int i = 0; i < n; i++) {
      s0 = Goldilocks.add(s0, t[2 * i]);
      s1 = Goldilocks.add(s1, t[2 * i + 1]);
    }
    return new Ext(s0, s1);
  }

  /** The input coordinate an output coordinate and kernel offset read, or -1 outside the input. */
  private int source(int o, int kk, int outSize, int inSize) {
    if (o >= outSize || kk >= cv.kernel()) {
      return -1;
    }
    int y = o * cv.stride() + kk - cv.padding();
    return y >= 0 && y < inSize ? y : -1;
  }

  /**
   * The prover's table H(co, ci, ky, kx) = eq(rho_c, ci) * sum over (oy, ox) of E(co, oy, ox)
   * eq(rho_y, y) eq(rho_x, x), where E is an interleaved table over the output domain and rho a
   * point of the input's domain.
   */
  long[] kernelWeights(long[] e, Ext[] rho) {
    int lw = in.logWidth();
    int lh = in.logHeight();
    long[] eqX = Mle.eqTable(Arrays.copyOfRange(rho, 0, lw));
    long[] eqY = Mle.eqTable(Arrays.copyOfRange(rho, lw, lw + lh));
    long[] eqC = Mle.eqTable(Arrays.copyOfRange(rho, lw + lh, rho.length));
    int kp = 1 << logK;
    int k = cv.kernel();
    int oh = out.height();
    int ow = out.width();
    int cip = in.paddedChannels();
    long[] h = new long[2 << kernelVars()];
    long[] b = new long[2 * oh * k];
    long[] a = new long[2 * k * k];
    for (int co = 0; co < out.paddedChannels(); co++) {
      Arrays.fill(b, 0);
      for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
          int o = out.physicalIndex(co, oy, ox);
          long e0 = e[2 * o];
          long e1 = e[2 * o + 1];
          for (int kx = 0; kx < k; kx++) {
            int x = source(ox, kx, ow, in.width());
            if (x < 0) {
              continue;
            }
            int at = 2 * (oy * k + kx);
            b[at] = Goldilocks.add(b[at], Ext.mulC0(e0, e1, eqX[2 * x], eqX[2 * x + 1]));
            b[at + 1] = Goldilocks.add(b[at + 1], Ext.mulC1(e0, e1, eqX[2 * x], eqX[2 * x + 1]));
          }
        }
      }
      Arrays.fill(a, 0);
      for (int oy = 0; oy < oh; oy++) {
        for (int ky = 0; ky < k; ky++) {
          int y = source(oy, ky, oh, in.height());
          if (y < 0) {
            continue;
          }
          long y0 = eqY[2 * y];
          long y1 = eqY[2 * y + 1];
          for (int kx = 0; kx < k; kx++) {
            int from = 2 * (oy * k + kx);
            int at = 2 * (ky * k + kx);
            a[at] = Goldilocks.add(a[at], Ext.mulC0(b[from], b[from + 1], y0, y1));
            a[at + 1] = Goldilocks.add(a[at + 1], Ext.mulC1(b[from], b[from + 1], y0, y1));
          }
        }
      }
      for (int ci = 0; ci < cip; ci++) {
        long c0 = eqC[2 * ci];
        long c1 = eqC[2 * ci + 1];
        for (int ky = 0; ky < k; ky++) {
          for (int kx = 0; kx < k; kx++) {
            int from = 2 * (ky * k + kx);
            int idx = ((co * cip + ci) * kp + ky) * kp + kx;
            h[2 * idx] = Ext.mulC0(a[from], a[from + 1], c0, c1);
            h[2 * idx + 1] = Ext.mulC1(a[from], a[from + 1], c0, c1);
          }
        }
      }
    }
    return h;
  }

  /**
   * The verifier's value of H~ at a point rhoK of the kernel domain, for E = sum_i a^i eq(r_i, .)
   * over the claim points r_i: a sum of products of one-dimensional sums, O(claims * (OH + OW) *
   * k) work.
   */
  Ext kernelWeightsAt(List<Ext[]> claimPoints, Ext a, Ext[] rho, Ext[] rhoK) {
    int lw = in.logWidth();
    int lh = in.logHeight();
    long[] eqX = Mle.eqTable(Arrays.copyOfRange(rho, 0, lw));
    long[] eqY = Mle.eqTable(Arrays.copyOfRange(rho, lw, lw + lh));
    Ext[] rhoC = Arrays.copyOfRange(rho, lw + lh, rho.length);
    long[] kx = Mle.eqTable(Arrays.copyOfRange(rhoK, 0, logK));
    long[] ky = Mle.eqTable(Arrays.copyOfRange(rhoK, logK, 2 * logK));
    Ext[] kci = Arrays.copyOfRange(rhoK, 2 * logK, 2 * logK + in.logChannels());
    Ext[] kco = Arrays.copyOfRange(rhoK, 2 * logK + in.logChannels(), rhoK.length);
    Ext total = Ext.ZERO;
    Ext s = Ext.ONE;
    for (Ext[] r : claimPoints) {
      long[] rx = Mle.eqTable(Arrays.copyOfRange(r, 0, out.logWidth()));
      long[] ry = Mle.eqTable(Arrays.copyOfRange(r, out.logWidth(), out.logWidth() + out.logHeight()));
      Ext[] rco = channelPart(r);
      Ext sy = wiringSum(ry, ky, eqY, out.height(), in.height());
      Ext sx = wiringSum(rx, kx, eqX, out.width(), in.width());
      total = total.add(s.mul(Mle.eq(rco, kco)).mul(sy).mul(sx));
      s = s.mul(a);
    }
    return total.mul(Mle.eq(rhoC, kci));
  }

  /** sum over valid (o, kk) of eqOut[o] eqK[kk] eqIn[source(o, kk)]. */
  private Ext wiringSum(long[] eqOut, long[] eqK, long[] eqIn, int outSize, int inSize) {
    Ext total = Ext.ZERO;
    for (int o = 0; o < outSize; o++) {
      Ext eo = new Ext(eqOut[2 * o], eqOut[2 * o + 1]);
      Ext inner = Ext.ZERO;
      for (int kk = 0; kk < cv.kernel(); kk++) {
        int y = source(o, kk, outSize, inSize);
        if (y >= 0) {
          inner = inner.add(new Ext(eqK[2 * kk], eqK[2 * kk + 1]).mul(new Ext(eqIn[2 * y], eqIn[2 * y + 1])));
        }
      }
      total = total.add(eo.mul(inner));
    }
    return total;
  }
}
