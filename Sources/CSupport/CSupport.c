// Headers only; see include/CSupport.h.
