# Writes the NumPy reference files used by NumpyCompatibilityTest. Run from this directory with
# NumPy installed:  python3 make_numpy_vectors.py
# The .npy files are deterministic, so the tests compare Verity's writer with them byte for byte.
# Zip entries carry timestamps, so for the .npz files the tests compare decoded values only.
# The committed files were made with NumPy 2.4.6 on CPython 3.11.
import numpy as np
from numpy.lib import format as npf

f32 = np.array([[0.5, -1.25, np.float32(1e-45)], [np.nan, np.inf, -0.0]], dtype='<f4')
np.save('float32_2x3.npy', f32)
np.save('float64_scalar.npy', np.array(-2.5e-308, dtype='<f8'))
np.save('int64_1d.npy', np.array([-9223372036854775808, -1, 0, 9223372036854775807], dtype='<i8'))
np.save('int32_2x2.npy', np.array([[-2147483648, 2147483647], [7, -7]], dtype='<i4'))
np.save('int16_1d.npy', np.array([-32768, 32767, 0], dtype='<i2'))
np.save('int8_1d.npy', np.array([-128, 127, 0, -1], dtype='i1'))
np.save('uint8_2x2.npy', np.array([[0, 255], [128, 1]], dtype='u1'))
np.save('bool_1x3.npy', np.array([[True, False, True]]))
np.save('empty_0x3.npy', np.zeros((0, 3), dtype='<f4'))
with open('float32_v2_header.npy', 'wb') as fh:
    npf.write_array(fh, np.arange(6, dtype='<f4').reshape(2, 3), version=(2, 0))
np.save('bigendian_f4.npy', np.array([1.0, 2.0], dtype='>f4'))
np.save('fortran_2x3.npy', np.asfortranarray(np.arange(6, dtype='<i4').reshape(2, 3)))
np.savez('pair.npz', x=np.arange(6, dtype='<f4').reshape(2, 3), mask=np.array([True, False]))
np.savez_compressed('pair_compressed.npz', x=np.arange(6, dtype='<f4').reshape(2, 3),
                    mask=np.array([True, False]))
