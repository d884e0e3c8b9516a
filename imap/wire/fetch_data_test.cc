#include "imap/wire/fetch_data.h"
