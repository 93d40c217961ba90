/**
 * @file
 * Loading and validating sluiced's JSON configuration (jansson). Every error names the JSON
 * path of the offending field and why, e.g.
 *   ports[0].address: not an IPv4 address: "198.18.0.x"
 */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#include <stddef.h>

#include "config-t.h"

/**
 * Parse and validate a configuration held in memory.
 * @param text    JSON text, `len` bytes (need not be NUL-terminated)
 * @param cfg     filled on success; zeroed first; release with sl_config_free()
 * @param err     receives a one-line message naming the field on failure
 * @return 0, or -EINVAL (err set); on failure nothing needs freeing.
 */
int sl_config_parse(const char *text, size_t len, struct sl_config *cfg, char *err, size_t errlen);

/**
 * Read and validate a configuration file.
 * @return 0, -EINVAL (invalid, err names the field) or -errno of open/read (err says which).
 */
int sl_config_load(const char *path, struct sl_config *cfg, char *err, size_t errlen);

/** Free what sl_config_parse() allocated. Safe on a zeroed config. */
void sl_config_free(struct sl_config *cfg);

#endif /* SL_CONFIG_H */
