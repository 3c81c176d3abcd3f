Feature: Bank callbacks
  As a shop owner
  I want the gateway to accept a bank callback only when its checksum is right, and even then to ask the bank
  So that a forged, tampered or replayed callback can never mark an order paid

  @RC-12 @simulator
  Scenario Outline: A forged or tampered callback is refused and changes nothing
    Given an Ecwid order of 15000 AMD with a bank payment page open
    When a "deposited" callback <defect> reaches the gateway
    Then the gateway answers 400
    And the Ecwid order is "INCOMPLETE"
    And no Ecwid update was sent

    Examples:
      | defect                                  |
      | without a checksum                      |
      | signed with another key                 |
      | whose amount was changed after signing  |
      | whose status was changed after signing  |

  @RC-12 @simulator
  Scenario: A correctly signed callback for an order the bank has not paid changes nothing
    Given an Ecwid order of 15000 AMD with a bank payment page open
    When a "deposited" callback correctly signed but for an unpaid order reaches the gateway
    Then the gateway answers 200
    And the bank payment is still unpaid
    And the Ecwid order is "INCOMPLETE"
    And no Ecwid update was sent
