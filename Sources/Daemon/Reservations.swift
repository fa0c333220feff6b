import JosevContract
import Logging
import Station

/// Reservations (OCPP ReserveNow / CancelReservation) reach the CS only as the connector status
/// Josev reports in `connector_and_charging`: `reserved` marks the connector reserved; any other
/// status (`available` after a cancellation or expiry, `occupied` when the reservation's driver
/// arrived, `unavailable`, `faulted`) ends it. The contract carries no expiry time: Josev expires
/// reservations itself, and the station drops one it never heard the end of after
/// `authorization.reservation_timeout` (see docs/BACKOFFICE.md). Reserved connectors are stored
/// and restored after a restart (`StatePersistence`), since Josev does not report them again.
extension ContractHandlers {
    func connectorAndCharging(_ update: ConnectorAndChargingUpdate) async {
        guard let status = update.connectorStatus else {
            logger.debug("connector_and_charging \(update.evseID)/\(update.connectorID): charging \(update.chargingStatus?.rawValue ?? "-")")
            return
        }
        switch await station.setReserved(status == .reserved, evseID: update.evseID, connectorID: update.connectorID) {
        case nil:
            logger.notice("connector_and_charging for unknown connector \(update.evseID)/\(update.connectorID) ignored")
        case false?:
            logger.debug("connector_and_charging \(update.evseID)/\(update.connectorID): \(status.rawValue)")
            if status != .reserved { sessions?.reservationNotHeld(evseID: update.evseID, connectorID: update.connectorID) }
        case true?:
            break  // logged with the station's notification
        }
    }
}

extension ContractRouter {
    func logReservation(evseID: String, connectorID: Int, reserved: Bool, expired: Bool) {
        let metadata: Logger.Metadata = ["evse_id": "\(evseID)"]
        if reserved {
            logger.info(
                "\(evseID)/\(connectorID) reserved: free vend and local cards wait for Josev's authorization there", metadata: metadata)
        } else if expired {
            logger.notice("\(evseID)/\(connectorID): reservation dropped, Josev never ended it (reservation_timeout)", metadata: metadata)
        } else {
            logger.info("\(evseID)/\(connectorID) no longer reserved", metadata: metadata)
        }
    }
}
