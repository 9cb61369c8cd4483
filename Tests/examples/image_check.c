/* image_check.c - decodes a PNG with libpng and a JPEG with libjpeg (both
 * independent of the script that wrote them) and compares their pixels.
 * Prints "WIDTHxHEIGHT mean=<mean abs difference> max=<largest>" and exits
 * 0 when both decode to 8-bit RGB of the same size, 1 otherwise. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h> /* needs stddef.h and stdio.h first */
#include <png.h>

static unsigned char *read_png(const char *path, unsigned *w, unsigned *h) {
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path)) {
        fprintf(stderr, "png: %s\n", img.message);
        return NULL;
    }
    img.format = PNG_FORMAT_RGB;
    unsigned char *px = malloc(PNG_IMAGE_SIZE(img));
    if (!px || !png_image_finish_read(&img, NULL, px, 0, NULL)) {
        fprintf(stderr, "png: %s\n", img.message);
        free(px);
        return NULL;
    }
    *w = img.width;
    *h = img.height;
    return px;
}

static unsigned char *read_jpeg(const char *path, unsigned *w, unsigned *h) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return NULL; }
    struct jpeg_decompress_struct d;
    struct jpeg_error_mgr err;
    d.err = jpeg_std_error(&err); /* a corrupt file exits with libjpeg's message */
    jpeg_create_decompress(&d);
    jpeg_stdio_src(&d, f);
    jpeg_read_header(&d, TRUE);
    d.out_color_space = JCS_RGB;
    jpeg_start_decompress(&d);
    *w = d.output_width;
    *h = d.output_height;
    unsigned char *px = malloc((size_t)*w * *h * 3);
    while (d.output_scanline < d.output_height) {
        unsigned char *row = px + (size_t)d.output_scanline * *w * 3;
        jpeg_read_scanlines(&d, &row, 1);
    }
    int warnings = (int)err.num_warnings;
    jpeg_finish_decompress(&d);
    jpeg_destroy_decompress(&d);
    fclose(f);
    if (warnings) {
        fprintf(stderr, "jpeg: %d warnings (corrupt data)\n", warnings);
        free(px);
        return NULL;
    }
    return px;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s IMAGE.png IMAGE.jpg\n", argv[0]);
        return 2;
    }
    unsigned pw, ph, jw, jh;
    unsigned char *p = read_png(argv[1], &pw, &ph);
    unsigned char *j = read_jpeg(argv[2], &jw, &jh);
    if (!p || !j || pw != jw || ph != jh) {
        fprintf(stderr, "decode failed or sizes differ\n");
        return 1;
    }
    double sum = 0;
    int max = 0;
    size_t n = (size_t)pw * ph * 3;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)p[i] - (int)j[i]);
        sum += d;
        if (d > max) max = d;
    }
    printf("%ux%u mean=%.2f max=%d\n", pw, ph, sum / (double)n, max);
    free(p);
    free(j);
    return 0;
}
