/* afsim compare report: nothing to run; kept so the CSP can name an exact script. */
(function () { "use strict"; document.body.dataset.ready = "1"; })();
