/* cxx_wrap.c - C++ operator new/delete by their mangled names (x86-64 and
 * other LP64 targets: size_t is 'm'). Each calls libstdc++'s own operator
 * under the guard, so new_handler, bad_alloc and nothrow behave as without
 * us, and the malloc/free underneath is not counted twice. Built with
 * -fexceptions so bad_alloc unwinds through these frames and the cleanup
 * attribute drops the guard. */
#define _GNU_SOURCE
#include <stddef.h>
#include "hooks.h"
#include "track.h"

typedef const void *nothrow_ref;	/* const std::nothrow_t & */

#define MW_RESOLVE(sym)							\
	static __typeof__(sym) *real_;					\
	if (!real_)							\
		real_ = (__typeof__(sym) *)mw_next(#sym)

#define MW_NEW(sym, kind, params, args)					\
	void *sym params;						\
	void *sym params						\
	{								\
		void *p;						\
		MW_RESOLVE(sym);					\
		{							\
			MW_GUARDED;					\
			p = real_ args;					\
		}							\
		return mw_track(p, size, kind);				\
	}

#define MW_DELETE(sym, kind, params, args)				\
	void sym params;						\
	void sym params							\
	{								\
		MW_RESOLVE(sym);					\
		mw_untrack(ptr, kind);					\
		MW_GUARDED;						\
		if (real_)						\
			real_ args;					\
		else							\
			mw_real.free(ptr);				\
	}

MW_NEW(_Znwm, MW_NEW, (size_t size), (size))
MW_NEW(_Znam, MW_NEW_ARRAY, (size_t size), (size))
MW_NEW(_ZnwmRKSt9nothrow_t, MW_NEW, (size_t size, nothrow_ref nt), (size, nt))
MW_NEW(_ZnamRKSt9nothrow_t, MW_NEW_ARRAY, (size_t size, nothrow_ref nt), (size, nt))
MW_NEW(_ZnwmSt11align_val_t, MW_NEW, (size_t size, size_t al), (size, al))
MW_NEW(_ZnamSt11align_val_t, MW_NEW_ARRAY, (size_t size, size_t al), (size, al))
MW_NEW(_ZnwmSt11align_val_tRKSt9nothrow_t, MW_NEW, (size_t size, size_t al, nothrow_ref nt),
       (size, al, nt))
MW_NEW(_ZnamSt11align_val_tRKSt9nothrow_t, MW_NEW_ARRAY, (size_t size, size_t al, nothrow_ref nt),
       (size, al, nt))

MW_DELETE(_ZdlPv, MW_NEW, (void *ptr), (ptr))
MW_DELETE(_ZdaPv, MW_NEW_ARRAY, (void *ptr), (ptr))
MW_DELETE(_ZdlPvm, MW_NEW, (void *ptr, size_t sz), (ptr, sz))
MW_DELETE(_ZdaPvm, MW_NEW_ARRAY, (void *ptr, size_t sz), (ptr, sz))
MW_DELETE(_ZdlPvRKSt9nothrow_t, MW_NEW, (void *ptr, nothrow_ref nt), (ptr, nt))
MW_DELETE(_ZdaPvRKSt9nothrow_t, MW_NEW_ARRAY, (void *ptr, nothrow_ref nt), (ptr, nt))
MW_DELETE(_ZdlPvSt11align_val_t, MW_NEW, (void *ptr, size_t al), (ptr, al))
MW_DELETE(_ZdaPvSt11align_val_t, MW_NEW_ARRAY, (void *ptr, size_t al), (ptr, al))
MW_DELETE(_ZdlPvmSt11align_val_t, MW_NEW, (void *ptr, size_t sz, size_t al), (ptr, sz, al))
MW_DELETE(_ZdaPvmSt11align_val_t, MW_NEW_ARRAY, (void *ptr, size_t sz, size_t al), (ptr, sz, al))
MW_DELETE(_ZdlPvSt11align_val_tRKSt9nothrow_t, MW_NEW, (void *ptr, size_t al, nothrow_ref nt),
	  (ptr, al, nt))
MW_DELETE(_ZdaPvSt11align_val_tRKSt9nothrow_t, MW_NEW_ARRAY, (void *ptr, size_t al, nothrow_ref nt),
	  (ptr, al, nt))
