#ifndef PATTERNDESK_CHIREDIS_SHIM_H
#define PATTERNDESK_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <poll.h>
#endif
