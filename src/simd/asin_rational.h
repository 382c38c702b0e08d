/* The constants of the angle kernel (kernels_impl.h), in one place for it
 * and for the test that holds it to its plain formula (check_simd.c). */
#ifndef TSRELU_SIMD_ASIN_RATIONAL_H
#define TSRELU_SIMD_ASIN_RATIONAL_H

/* asin(x) = x + x R(x^2) on [0, 0.5]: the rational of fdlibm's e_asin.c
 * (Sun Microsystems, 1993: "freely used, copied, modified and distributed"),
 * error below 1 ulp; the same one serves every angle of the kernel. */
#define PS0 1.66666666666666657415e-01
#define PS1 -3.25565818622400915405e-01
#define PS2 2.01212532134862925881e-01
#define PS3 -4.00555345006794114027e-02
#define PS4 7.91534994289814532176e-04
#define PS5 3.47933107596021167570e-05
#define QS1 -2.40339491173441421878e+00
#define QS2 2.02094576023350569471e+00
#define QS3 -6.88283971605453293030e-01
#define QS4 7.70381505559019352791e-02
#define PIO2_HI 1.57079632679489655800e+00
#define PIO2_LO 6.12323399573676603587e-17
#define PI_HI 3.14159265358979311600e+00

#endif
