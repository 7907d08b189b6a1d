/* out.h - the report writer: a static buffer flushed with write(2), so
 * nothing is allocated while logging. Callers hold mw_out_lock(). */
#ifndef MW_OUT_H
#define MW_OUT_H

/* From the constructor: a private copy of stderr. */
void mw_out_init(void);
void mw_out_lock(void);
void mw_out_unlock(void);
void mw_out_str(const char *s);
void mw_out_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* s as a JSON string literal, quotes included; NULL as null */
void mw_out_json_str(const char *s);
void mw_out_flush(void);

#endif
