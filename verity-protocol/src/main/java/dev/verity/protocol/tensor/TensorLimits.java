package dev.verity.protocol.tensor;

import dev.verity.core.DecodingException;

/**
 * Bounds on tensors accepted from outside, enforced while decoding so that a hostile request cannot
 * make a node allocate more than these limits allow.
 *
 * @param maxTensors how many tensors one request may carry
 * @param maxElements elements in any one tensor
 * @param maxTotalBytes data bytes across all tensors of one request
 */
public record TensorLimits(int maxTensors, long maxElements, long maxTotalBytes) {
  public static final TensorLimits DEFAULT = new TensorLimits(64, 64L << 20, 256L << 20);

  public TensorLimits {
    if (maxTensors < 1 || maxElements < 1 || maxTotalBytes < 1) {
      throw new IllegalArgumentException("tensor limits must be positive");
    }
  }

  void checkElements(String name, long count) {
    if (count > maxElements) {
      throw new DecodingException(
          "tensor '" + name + "' has " + count + " elements; the limit is " + maxElements);
    }
  }

  void checkCount(int count) {
    if (count > maxTensors) {
      throw new DecodingException("request carries more than " + maxTensors + " tensors");
    }
  }

  void checkTotal(long bytes) {
    if (bytes > maxTotalBytes) {
      throw new DecodingException(
          "tensors carry more than " + maxTotalBytes + " bytes; send less or raise the node's limit");
    }
  }
}
